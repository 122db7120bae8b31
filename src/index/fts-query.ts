/**
 * Builds an FTS5 MATCH expression from free text: each word quoted (so no FTS syntax leaks
 * through) and OR-ed, which is how BM25 ranks a bag of words. With `prefix`, the last word also
 * matches as a prefix, for a title that is still being typed.
 */
export function ftsQuery(text: string, options: { prefix?: boolean; maxTerms?: number } = {}): string {
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, options.maxTerms ?? 32);
  if (words.length === 0) return '';
  const endsMidWord = /[\p{L}\p{N}]$/u.test(text);
  return words
    .map((w, i) => (options.prefix && endsMidWord && i === words.length - 1 ? `"${w}"*` : `"${w}"`))
    .join(' OR ');
}
