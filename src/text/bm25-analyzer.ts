/**
 * BM25's analyzer (search/lexical): text to index terms as SQLite FTS5's `unicode61
 * remove_diacritics 2` then `porter` tokenizers make them, so its scores can be checked against
 * FTS5's: letters, digits and private-use characters make tokens, everything else
 * separates them; tokens are lower-cased and stripped of diacritics, then stemmed.
 */
import { porterStem } from './porter-stemmer.js';

const TOKEN = /[\p{L}\p{N}\p{Co}]+/gu;
/** unicode61 removes diacritics from Latin letters only (Hangul or kana must not be decomposed). */
const ACCENTED_LATIN = /[\u00c0-\u024f\u1e00-\u1eff]/g;
const stripMarks = (c: string) => c.normalize('NFD').replace(/\p{M}/gu, '');

/** Lower-cased, diacritics removed: the form a word has before stemming. */
export const foldWord = (word: string): string => word.toLowerCase().replace(ACCENTED_LATIN, stripMarks);

/** The folded words of a text, before stemming. */
export function foldedWords(text: string): string[] {
  return foldWord(text).match(TOKEN) ?? [];
}

/** The index terms of a text, one per token, in order (a document's length is their count). */
export function terms(text: string): string[] {
  return foldedWords(text).map(porterStem);
}

export { porterStem };
