/**
 * The words a question is compared by: lower-cased runs of letters and digits, with English
 * contractions split the way CoreNLP splits them ("doesn't" and "does n't" give the same words),
 * so that raw and tokenized copies of a question read alike.
 */
export function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/[’`]/g, "'")
      .replace(/n't\b/g, ' not')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Character trigrams of the words joined by single spaces, with a space at each end. */
export function charTrigrams(ws: readonly string[]): string[] {
  const s = ` ${ws.join(' ')} `;
  const grams: string[] = [];
  for (let i = 0; i + 3 <= s.length; i++) grams.push(s.slice(i, i + 3));
  return grams;
}

const NEGATIONS = new Set(['not', 'no', 'never', 'nothing', 'none', 'nobody', 'without', 'cannot', 'neither', 'nor']);
export const isNegation = (w: string) => NEGATIONS.has(w);

/** The question words a verdict looks at; a question's type is its first one. */
export const QUESTION_WORDS = ['what', 'why', 'how', 'when', 'where', 'who', 'which', 'whom', 'whose', 'is', 'are', 'can', 'could', 'should', 'would', 'will', 'do', 'does', 'did'] as const;
const QUESTION_CODE = new Map<string, number>(QUESTION_WORDS.map((w, i) => [w, i + 1]));

/** 1 + the index of the first question word in QUESTION_WORDS, 0 when there is none. */
export function questionType(ws: readonly string[]): number {
  for (const w of ws) {
    const code = QUESTION_CODE.get(w);
    if (code) return code;
  }
  return 0;
}

export const isNumber = (w: string) => /^\p{N}+$/u.test(w);
