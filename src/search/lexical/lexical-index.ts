/**
 * BM25 search over the store's question texts, in memory: an inverted index answered by
 * MaxScore top-k (it does not score every match, unlike FTS5), prefix expansion for a title
 * still being typed, and typo correction from the corpus's own words. The owner keeps it in step
 * with the store: `add` and `remove` with each committed change, by label.
 */
import { isStopWord, queryWords } from '../../text/bm25-query.js';
import { InvertedIndex } from './inverted-index.js';
import { sharedDocuments } from './postings.js';
import { porterStem } from '../../text/porter-stemmer.js';
import { foldedWords, foldWord, terms } from '../../text/bm25-analyzer.js';
import { idf, MIN_IDF, type QueryTerm, topK } from './top-k.js';
import { correctPrefix, TypoCorrector } from './typos.js';
import { Vocabulary } from './vocabulary.js';

export interface LexicalHit {
  label: number;
  /** BM25, higher is better (FTS5's bm25() negated). */
  bm25: number;
}

export interface LexicalSearchOptions {
  /** The last word, when the text ends mid-word, matches as a prefix. */
  prefix?: boolean;
  /** A rare word also matches the frequent words one edit from it, at TYPO_WEIGHT of their weight. */
  typos?: boolean;
  /** Candidates it may return; undefined accepts all. */
  accept?: (label: number) => boolean;
}

/**
 * What a possible slip's corrections weigh against an exact match: a question with the rare
 * word as typed ranks first, one with the likely intended word still ranks.
 */
const TYPO_WEIGHT = 0.5;

/** The completions of a prefix that are searched: the most frequent, as search-as-you-type engines cap them. */
const MAX_EXPANSIONS = 32;
const WORD = /[\p{L}\p{N}]+/gu;
/** Other words of the query a typo's candidates are checked against. */
const CONTEXT_WORDS = 4;

export class LexicalIndex {
  private readonly index = new InvertedIndex();
  private readonly vocabulary = new Vocabulary();
  private readonly typos = new TypoCorrector(this.vocabulary);

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
    const weigh = (term: string, factor: number) => {
      const postings = this.index.postings(term);
      if (postings) weights.set(term, (weights.get(term) ?? 0) + factor * idf(n, postings.length));
    };
    for (const word of words) {
      for (const term of terms(word)) weigh(term, 1);
      if (options.typos) for (const c of this.typos.corrections(foldWord(word))) weigh(porterStem(c), TYPO_WEIGHT);
    }
    if (prefix?.length === 1) weigh(porterStem(foldWord(prefix)), 1);
    const query: QueryTerm[] = [...weights].map(([term, weight]) => ({ lists: [this.index.postings(term)!], weight }));
    const completions = prefix && prefix.length > 1 ? this.completions(foldWord(prefix)) : undefined;
    if (completions) query.push(completions);
    if (query.length === 0) return [];
    return topK(query, k, this.index.documentLengths, this.index.averageLength, this.index.scratch, options.accept).map((d) => ({ label: d.doc, bm25: d.score }));
  }

  /**
   * A prefix as one query term: its most frequent completions (stop words aside, as in the rest
   * of the query), scored as FTS5 scores a prefix phrase; a prefix that starts no word is first
   * mended as a typo. Undefined when nothing completes it, or when it matches so many questions
   * that it tells nothing (scoring it would visit them all).
   */
  private completions(prefix: string): QueryTerm | undefined {
    const n = this.index.documents;
    const start = correctPrefix(prefix, this.vocabulary) ?? prefix;
    const words = this.vocabulary
      .withPrefix(start)
      .filter((w) => !isStopWord(w))
      .map((w) => ({ w, df: this.vocabulary.frequency(w) }))
      .sort((a, b) => b.df - a.df)
      .slice(0, MAX_EXPANSIONS);
    const lists = [...new Set(words.map((c) => porterStem(c.w)))].flatMap((t) => this.index.postings(t) ?? []);
    const weight = idf(n, Math.min(n, lists.reduce((sum, l) => sum + l.length, 0)));
    return lists.length === 0 || weight <= MIN_IDF ? undefined : { lists, weight };
  }

  /**
   * The text with its likely slips mended ("how to lern pyhton" -> "how to learn python"). A
   * word no question holds becomes the corpus word one edit away that is found most often with
   * the query's other words ("sar alliance" -> "star alliance", though "war" is more frequent),
   * else the most frequent one. A rare word that questions do hold is replaced only when the
   * candidate fits the other words better than it does ("how cna i" -> "how can i", but "jobs in
   * Oman" stays). With `prefix` a last word still being typed is left to prefix matching.
   */
  correct(text: string, options: { prefix?: boolean } = {}): string {
    const endsMidWord = options.prefix && /[\p{L}\p{N}]$/u.test(text);
    const spans = [...text.matchAll(WORD)];
    if (endsMidWord) spans.pop();
    const folded = spans.map((m) => foldWord(m[0]));
    const candidates = folded.map((w) => this.typos.corrections(w));
    if (candidates.every((c) => c.length === 0)) return text;
    const known = folded.map((w) => this.vocabulary.frequency(w) > 0);
    const chosen = folded.map((w, i) => (known[i] ? w : (candidates[i][0] ?? w)));
    for (let i = 0; i < chosen.length; i++) {
      if (candidates[i].length > (known[i] ? 0 : 1)) chosen[i] = this.inContext(folded[i], known[i], candidates[i], chosen.filter((_, j) => j !== i));
    }
    let out = '';
    let at = 0;
    spans.forEach((m, i) => {
      if (chosen[i] === folded[i]) return;
      out += text.slice(at, m.index) + chosen[i];
      at = m.index + m[0].length;
    });
    return out + text.slice(at);
  }

  /**
   * Of a word's candidates, the one sharing the most documents with the rarest of the other
   * words (the most telling, and the cheapest to intersect); a known word keeps its place unless
   * that candidate shares a larger part of its documents with them.
   */
  private inContext(word: string, known: boolean, candidates: string[], others: string[]): string {
    const context = queryWords(others.join(' '))
      .words.map((w) => this.index.postings(porterStem(w)))
      .filter((p) => p !== undefined)
      .sort((a, b) => a.length - b.length)
      .slice(0, CONTEXT_WORDS);
    const fit = (w: string) => {
      const postings = this.index.postings(porterStem(w));
      const shared = postings ? context.reduce((sum, p) => sum + sharedDocuments(postings, p), 0) : 0;
      return { shared, share: postings ? shared / postings.length : 0 };
    };
    let best = candidates[0];
    let bestFit = fit(best);
    for (const c of candidates.slice(1)) {
      const f = fit(c);
      if (f.shared > bestFit.shared) [best, bestFit] = [c, f];
    }
    return !known || bestFit.share > fit(word).share ? best : word;
  }
}
