/**
 * BM25 search over the store's question texts, in memory: an inverted index answered by
 * MaxScore top-k (it does not score every match, unlike FTS5), prefix expansion for a title
 * still being typed, and typo correction from the corpus's own words. The owner keeps it in step
 * with the store: `add` and `remove` with each committed change, by label.
 */
import { isStopWord, queryWords } from '../../text/bm25-query.js';
import { InvertedIndex } from './inverted-index.js';
import { porterStem } from '../../text/porter-stemmer.js';
import { foldedWords, foldWord, terms } from '../../text/bm25-analyzer.js';
import { idf, MIN_IDF, type QueryTerm, topK } from './top-k.js';
import { BigramCounts } from './bigrams.js';
import { SpellingModel } from './spelling.js';
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

export interface LexicalIndexOptions {
  /** Words to mend slips towards besides the corpus's own (the encoder's whole-word tokens). */
  lexicon?: Iterable<string>;
}

export class LexicalIndex {
  private readonly index = new InvertedIndex();
  private readonly vocabulary = new Vocabulary();
  private readonly typos = new TypoCorrector(this.vocabulary);
  private readonly bigrams = new BigramCounts(this.vocabulary);
  private readonly spelling: SpellingModel;

  constructor(options: LexicalIndexOptions = {}) {
    this.spelling = new SpellingModel(this.vocabulary, this.bigrams, new Set(options.lexicon));
  }

  get documents(): number {
    return this.index.documents;
  }

  has(label: number): boolean {
    return this.index.has(label);
  }

  add(label: number, text: string): void {
    const words = foldedWords(text);
    if (!this.index.add(label, words.map(porterStem))) return;
    this.vocabulary.add(new Set(words));
    this.bigrams.add(words);
  }

  /** `text` must be the text the question was added with. */
  remove(label: number, text: string): void {
    const words = foldedWords(text);
    if (!this.index.remove(label, words.map(porterStem))) return;
    this.vocabulary.remove(new Set(words));
    this.bigrams.remove(words);
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
   * The text with its likely slips mended ("how to lern pyhton" -> "how to learn python"), as
   * the spelling model reads the whole sentence (see spelling.ts): "how cna i" -> "how can i",
   * "sar alliance" -> "star alliance" though "war" is more frequent, while "jobs in Oman" stays.
   * With `prefix` a last word still being typed is left to prefix matching. Only the words
   * mended change; the rest of the text is kept as typed.
   */
  correct(text: string, options: { prefix?: boolean } = {}): string {
    const endsMidWord = options.prefix && /[\p{L}\p{N}]$/u.test(text);
    const spans = [...text.matchAll(WORD)];
    if (endsMidWord) spans.pop();
    const folded = spans.map((m) => foldWord(m[0]));
    const chosen = this.spelling.mend(folded);
    if (chosen === folded) return text;
    let out = '';
    let at = 0;
    spans.forEach((m, i) => {
      if (chosen[i] === folded[i]) return;
      out += text.slice(at, m.index) + chosen[i];
      at = m.index + m[0].length;
    });
    return out + text.slice(at);
  }
}
