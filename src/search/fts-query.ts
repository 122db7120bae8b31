/**
 * The words of a free-text query that are worth matching: stop words dropped (unless nothing else
 * is left), at most `maxTerms`, and with `prefix` the half-typed last word apart.
 */
export function queryTerms(text: string, options: { prefix?: boolean; maxTerms?: number } = {}): { words: string[]; prefix?: string } {
  const all = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const endsMidWord = /[\p{L}\p{N}]$/u.test(text);
  const prefixWord = options.prefix && endsMidWord ? all.pop() : undefined;
  // Stop words match most questions: they add little to BM25 and make every query scan them all.
  let words = all.filter((w) => !STOP_WORDS.has(w));
  if (words.length === 0 && !prefixWord) words = all;
  return { words: words.slice(0, options.maxTerms ?? 32), prefix: prefixWord };
}

/**
 * Builds an FTS5 MATCH expression from free text: each word quoted (so no FTS syntax leaks
 * through) and OR-ed, which is how BM25 ranks a bag of words. With `prefix`, the last word also
 * matches as a prefix, for a title that is still being typed.
 */
export function ftsQuery(text: string, options: { prefix?: boolean; maxTerms?: number } = {}): string {
  const { words, prefix: prefixWord } = queryTerms(text, options);
  const terms = words.map((w) => `"${w}"`);
  if (prefixWord) terms.push(prefixWord.length >= 2 ? `"${prefixWord}"*` : `"${prefixWord}"`);
  return terms.join(' OR ');
}

const STOP_WORDS = new Set(
  ('a an and are as at be been being but by can could did do does doing for from had has have having how i if in into is it its ' +
    'me my of on or our should so some than that the their them then there these they this those to was we were what when where ' +
    'which who whom why will with would you your').split(' '),
);
