/**
 * Spelling correction by the noisy channel (Kernighan, Church & Gale, 1990; Jurafsky & Martin,
 * "Speech and Language Processing", ch. B): of the sentences a typed text may have been meant
 * as, each word either as typed or a known word one edit from it, choose
 *
 *   argmax_c  P(c) * P(typed | c),   P(c) = prod_i P(c_i | c_{i-1})  (a bigram model, Viterbi)
 *
 * P(c_i | c_{i-1}) is the store's questions' bigram, interpolated Kneser-Ney (Chen & Goodman,
 * 1998): (max(n(p c) - D, 0) + D * N1+(p .) * P_cont(c)) / n(p .), P_cont(c) = N1+(. c) / N1+(. .),
 * so a word backs off by how many contexts it follows, not how often it occurs ("francisco" is
 * frequent, and only after "san"). The channel: a word a question or the lexicon holds is a slip
 * with probability KNOWN_SLIP, one neither holds with UNKNOWN_SLIP; a slip's shape then weighs
 * the candidates (`slipShape`). Context is what mends "how an i lern" to "how can i learn": "an"
 * and "lern" alone could be many words, not in that sentence.
 */
import { type BigramCounts, END, START } from './bigrams.js';
import { edits1 } from './typos.js';
import type { Vocabulary } from './vocabulary.js';

// Chosen on a development split, never the benchmark's queries (scripts/experiments/spelling-dev.ts):
// with a slip in every word, 0.959 of the words and 0.681 of the questions are mended back to what
// was meant; 9.3 % of clean questions are changed at all. `npm run bench -- typos` measures what
// it does to search: /v1/duplicates top-1 agreement under slips 0.669 -> 0.868.
const KNOWN_SLIP = 0.3;
const UNKNOWN_SLIP = 0.999;
const DISCOUNT = 0.75;
/** Pseudo-counts of contexts for a word no question holds: one the lexicon has may well be meant. */
const UNSEEN = 0.05;
const IN_LEXICON = 2;
/** Candidates weighed per typed word: the most frequent known words one edit away. */
const CANDIDATES = 12;
const MIN_LENGTH = 2;
const LETTERS = 26;

const correctable = (word: string) => word.length >= MIN_LENGTH && /^[a-z]+$/.test(word);

const CACHE_SIZE = 50_000;
/** Vocabulary changes a cached candidate list may outlive (one more question rarely changes one). */
const CACHE_CHANGES = 1000;

/**
 * P(typed | meant, one slip): a slip is a deletion, a transposition, a substitution or an
 * insertion, each as likely, anywhere in the word, with any letter. So a deletion or a swap,
 * which makes one string of a few, is far likelier than the one insertion or substitution, of
 * some 26 letters times the word's length, that explains the typed word.
 */
export function slipShape(typed: string, meant: string): number {
  const n = meant.length;
  let ways = 0;
  if (typed.length === n - 1) {
    for (let i = 0; i < n; i++) if (meant.slice(0, i) + meant.slice(i + 1) === typed) ways++;
    return ways / n / 4;
  }
  if (typed.length === n + 1) {
    for (let i = 0; i <= n; i++) if (typed.slice(0, i) + typed.slice(i + 1) === meant) ways++;
    return ways / ((n + 1) * LETTERS) / 4;
  }
  let first = -1;
  let differ = 0;
  for (let i = 0; i < n; i++) if (typed[i] !== meant[i] && differ++ === 0) first = i;
  if (differ === 1) return 1 / (n * (LETTERS - 1)) / 4;
  const swapped = differ === 2 && typed[first] === meant[first + 1] && typed[first + 1] === meant[first];
  return swapped ? 1 / Math.max(1, n - 1) / 4 : 0;
}

/** A word as the bigram model reads it: its number, its contexts, and its pseudo-count if no question holds it. */
interface State {
  id: number | undefined;
  pairs: number;
  after: number;
  before: number;
  unseen: number;
}

export class SpellingModel {
  private readonly cache = new Map<string, string[]>();
  private version = 0;

  constructor(
    private readonly vocabulary: Vocabulary,
    private readonly bigrams: BigramCounts,
    private readonly lexicon: ReadonlySet<string>,
  ) {}

  /** The folded words as most probably meant; the same array's words where nothing is likelier. */
  mend(words: string[]): string[] {
    const options = words.map((w) => this.options(w));
    if (options.every((o) => o.length === 1)) return words;
    // Each candidate's counts are looked up once, not once for every pair it is scored in.
    const denominator = this.bigrams.types + UNSEEN * this.vocabulary.size;
    const state = (word: string): State => ({ id: this.bigrams.idOf(word), ...this.bigrams.contexts(word), unseen: word === END ? 0 : this.unseen(word) });
    // Viterbi over the chain: for each candidate of word i, the best path's log probability and where it came from.
    let scores = [0];
    let states = [state(START)];
    const back: number[][] = [];
    for (const choices of options) {
      const known = this.vocabulary.frequency(choices[0]) > 0 || this.lexicon.has(choices[0]);
      const candidates = choices.map(state);
      const next = choices.map((c, j) => {
        const slip = known ? KNOWN_SLIP : UNKNOWN_SLIP;
        const channel = Math.log(j === 0 ? 1 - slip : slip * slipShape(choices[0], c));
        let best = -Infinity;
        let from = 0;
        states.forEach((p, i) => {
          const s = scores[i] + this.logFollows(p, candidates[j], denominator);
          if (s > best) [best, from] = [s, i];
        });
        return { score: best + channel, from };
      });
      back.push(next.map((n) => n.from));
      scores = next.map((n) => n.score);
      states = candidates;
    }
    const end = state(END);
    let last = 0;
    scores.forEach((s, i) => {
      if (s + this.logFollows(states[i], end, denominator) > scores[last] + this.logFollows(states[last], end, denominator)) last = i;
    });
    const out = new Array<string>(words.length);
    for (let i = words.length - 1; i >= 0; i--) {
      out[i] = options[i][last];
      last = back[i][last];
    }
    return out;
  }

  /** The word as typed first, then what it may have been meant as. */
  private options(word: string): string[] {
    if (!correctable(word)) return [word];
    if (this.cache.size >= CACHE_SIZE || this.vocabulary.version - this.version > CACHE_CHANGES) {
      this.cache.clear();
      this.version = this.vocabulary.version;
    }
    let found = this.cache.get(word);
    if (found === undefined) {
      const near = new Map<string, number>();
      for (const c of edits1(word)) {
        const seen = this.vocabulary.frequency(c) + this.unseen(c);
        if (seen > UNSEEN && c !== word) near.set(c, seen);
      }
      found = [word, ...[...near].sort((a, b) => b[1] - a[1]).slice(0, CANDIDATES).map(([c]) => c)];
      this.cache.set(word, found);
    }
    return found;
  }

  /** log P(word | previous), START and END being the question's start and end. */
  private logFollows(previous: State, word: State, denominator: number): number {
    const continuation = (word.before + word.unseen) / denominator;
    if (previous.pairs === 0) return Math.log(continuation);
    const count = previous.id === undefined || word.id === undefined ? 0 : this.bigrams.countIds(previous.id, word.id);
    return Math.log((Math.max(count - DISCOUNT, 0) + DISCOUNT * previous.after * continuation) / previous.pairs);
  }

  /** A pseudo-count for a word no question holds: a word the lexicon has may well be meant. */
  private unseen(word: string): number {
    return this.vocabulary.frequency(word) > 0 ? 0 : this.lexicon.has(word) ? IN_LEXICON : UNSEEN;
  }
}
