import { questionKey } from '../text/question-key.js';
import type { Idf } from './idf.js';
import { charTrigrams, isNegation, isNumber, questionType, words } from '../text/verdict-words.js';

/** A sparse vector, L2-normalised. */
export type SparseVector = Map<string, number>;

/** What the verdict needs of one question, computed once per text (stored questions are cached). */
export interface TextAnalysis {
  /** The normalised text (questionKey): two texts with the same key are the same question. */
  key: string;
  words: string[];
  wordSet: Set<string>;
  /** Adjacent word pairs: word order, which sets of words do not see. */
  bigrams: Set<string>;
  /** TF-IDF of words and of character trigrams. */
  wordTfidf: SparseVector;
  trigramTfidf: SparseVector;
  numbers: Set<string>;
  negated: boolean;
  questionType: number;
  chars: number;
}

function tfidf(terms: readonly string[], idf: (t: string) => number): SparseVector {
  const v = new Map<string, number>();
  for (const t of terms) v.set(t, (v.get(t) ?? 0) + 1);
  let norm = 0;
  for (const [t, tf] of v) {
    const x = tf * idf(t);
    v.set(t, x);
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (const [t, x] of v) v.set(t, x / norm);
  return v;
}

export function cosine(a: SparseVector, b: SparseVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [t, x] of small) dot += x * (large.get(t) ?? 0);
  return dot;
}

export function analyse(text: string, idf: Idf): TextAnalysis {
  const ws = words(text);
  return {
    key: questionKey(text),
    words: ws,
    wordSet: new Set(ws),
    bigrams: new Set(ws.slice(1).map((w, i) => `${ws[i]} ${w}`)),
    wordTfidf: tfidf(ws, (w) => idf.word(w)),
    trigramTfidf: tfidf(charTrigrams(ws), (t) => idf.trigram(t)),
    numbers: new Set(ws.filter(isNumber)),
    negated: ws.some(isNegation),
    questionType: questionType(ws),
    chars: text.length,
  };
}
