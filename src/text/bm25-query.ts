/**
 * The words a free-text query searches for in BM25 (search/lexical, and PostgreSQL's BM25): lower-cased letter and digit runs, less stop words
 * (unless nothing else is left), at most 32; with `prefix`, a last word still being typed is
 * kept apart to match as a prefix. The lexical index and the FTS5 expression below read a query
 * the same way.
 */
export function queryWords(text: string, options: { prefix?: boolean; maxTerms?: number } = {}): { words: string[]; prefix?: string } {
  const all = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const endsMidWord = /[\p{L}\p{N}]$/u.test(text);
  const prefix = options.prefix && endsMidWord ? all.pop() : undefined;
  // Stop words match most questions: they add little to BM25 and make every query scan them all.
  let words = all.filter((w) => !STOP_WORDS.has(w));
  if (words.length === 0 && !prefix) words = all;
  return { words: words.slice(0, options.maxTerms ?? 32), prefix };
}

/**
 * An FTS5 MATCH expression for free text: each word quoted (so no FTS syntax leaks through) and
 * OR-ed, which is how BM25 ranks a bag of words; a prefix word of two letters or more matches as
 * a prefix. For FTS5, the engine the benchmarks and tests compare the lexical index with.
 */
export function ftsQuery(text: string, options: { prefix?: boolean; maxTerms?: number } = {}): string {
  const { words, prefix } = queryWords(text, options);
  const terms = words.map((w) => `"${w}"`);
  if (prefix) terms.push(prefix.length >= 2 ? `"${prefix}"*` : `"${prefix}"`);
  return terms.join(' OR ');
}

/** Words too common to tell questions apart ("how", "the", "what"). */
export const isStopWord = (word: string): boolean => STOP_WORDS.has(word);

const STOP_WORDS = new Set(
  ('a an and are as at be been being but by can could did do does doing for from had has have having how i if in into is it its ' +
    'me my of on or our should so some than that the their them then there these they this those to was we were what when where ' +
    'which who whom why will with would you your').split(' '),
);
