/**
 * BM25 search over the store's question texts, in memory: an inverted index answered by
 * MaxScore top-k (it does not score every match, unlike FTS5), prefix expansion for a title
 * still being typed, and typo correction from the corpus's own words. The owner keeps it in step
 * with the store: `add` and `remove` with each committed change, by label.
 */
import { queryWords } from '../fts-query.js';
import { InvertedIndex } from './inverted-index.js';
import { porterStem } from './porter-stemmer.js';
import { foldedWords, foldWord, terms } from './tokenize.js';
import { idf, type QueryTerm, topK } from './top-k.js';
import { correctPrefix, correctWord } from './typos.js';
import { Vocabulary } from './vocabulary.js';

export interface LexicalHit {
  label: number;
  /** BM25, higher is better (FTS5's bm25() negated). */
  bm25: number;
}

export interface LexicalSearchOptions {
  /** The last word, when the text ends mid-word, matches as a prefix. */
  prefix?: boolean;
  /** Candidates it may return; undefined accepts all. */
  accept?: (label: number) => boolean;
}

/** The completions of a prefix that are searched: the most frequent, as search-as-you-type engines cap them. */
const MAX_EXPANSIONS = 32;
const WORD = /[\p{L}\p{N}]+/gu;

export class LexicalIndex {
  private readonly index = new InvertedIndex();
  private readonly vocabulary = new Vocabulary();

  get documents(): number {
    return this.index.documents;
  }

  has(label: number): boolean {
    return this.index.has(label);
  }

  add(label: number, text: string): void {
    const words = foldedWords(text);
    if (this.index.add(label, words.map(porterStem))) this.vocabulary.add(new Set(words));
  }

  /** `text` must be the text the question was added with. */
  remove(label: number, text: string): void {
    const words = foldedWords(text);
    if (this.index.remove(label, words.map(porterStem))) this.vocabulary.remove(new Set(words));
  }

  search(text: string, k: number, options: LexicalSearchOptions = {}): LexicalHit[] {
    const { words, prefix } = queryWords(text, { prefix: options.prefix });
    const n = this.index.documents;
    const weights = new Map<string, number>();
    for (const word of words) {
      for (const term of terms(word)) {
        const postings = this.index.postings(term);
        if (postings) weights.set(term, (weights.get(term) ?? 0) + idf(n, postings.length));
      }
    }
    if (prefix) this.addPrefix(foldWord(prefix), weights);
    const query: QueryTerm[] = [...weights].map(([term, weight]) => ({ postings: this.index.postings(term)!, weight }));
    if (query.length === 0) return [];
    return topK(query, k, this.index.documentLengths, this.index.averageLength, options.accept).map((d) => ({ label: d.doc, bm25: d.score }));
  }

  /**
   * A prefix matches its most frequent completions, each weighted by the idf of them all (as
   * FTS5 scores a prefix as one phrase); a one-letter one only as a word; a prefix that starts
   * no word is first mended as a typo.
   */
  private addPrefix(prefix: string, weights: Map<string, number>): void {
    const n = this.index.documents;
    if (prefix.length < 2) {
      const postings = this.index.postings(porterStem(prefix));
      if (postings) weights.set(porterStem(prefix), (weights.get(porterStem(prefix)) ?? 0) + idf(n, postings.length));
      return;
    }
    const start = correctPrefix(prefix, this.vocabulary) ?? prefix;
    const completions = this.vocabulary
      .withPrefix(start)
      .map((w) => ({ w, df: this.vocabulary.frequency(w) }))
      .sort((a, b) => b.df - a.df)
      .slice(0, MAX_EXPANSIONS);
    const stems = [...new Set(completions.map((c) => porterStem(c.w)))].filter((t) => this.index.postings(t));
    const weight = idf(n, Math.min(n, stems.reduce((sum, t) => sum + this.index.postings(t)!.length, 0)));
    for (const t of stems) weights.set(t, (weights.get(t) ?? 0) + weight);
  }

  /**
   * The text with each word that looks like a typo replaced by the corpus word one edit away
   * ("how to lern pyhton" -> "how to learn python"); with `prefix`, a last word still being
   * typed is left to prefix matching.
   */
  correct(text: string, options: { prefix?: boolean } = {}): string {
    const endsMidWord = options.prefix && /[\p{L}\p{N}]$/u.test(text);
    const spans = [...text.matchAll(WORD)];
    if (endsMidWord) spans.pop();
    let out = '';
    let at = 0;
    for (const m of spans) {
      const fixed = correctWord(foldWord(m[0]), this.vocabulary);
      if (fixed === undefined) continue;
      out += text.slice(at, m.index) + fixed;
      at = m.index + m[0].length;
    }
    return at === 0 ? text : out + text.slice(at);
  }
}
