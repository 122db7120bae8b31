/**
 * Typo tolerance by the corpus's own words (as Meilisearch and Typesense do, and Norvig's
 * corrector): a word no document holds, or a rare one (in at most 1 in RARE documents) far
 * rarer than a word one edit away (a deletion, insertion, substitution or transposition), is
 * taken for a slip of that word ("yo" -> "you", "recieve" -> "receive"; but "form", "two" or
 * "Jon" stay as they are).
 */
import type { Vocabulary } from './vocabulary.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
const MIN_LENGTH = 2;
/** A known word is replaced only by one this many times as frequent... */
const RATIO = 20;
/** ...and only if at most one document in RARE holds it. */
// 2,000 rather than 20,000: slips that land on a rare real word ("th", "hr" in Quora's questions)
// are mended too. `npm run bench -- typos`: /v1/duplicates top-1 agreement under slips 0.643 ->
// 0.669; `npm run bench -- retrieval` on clean questions did not move.
const RARE = 2_000;

/** Every string one edit from `word` (letters a-z). */
export function edits1(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= word.length; i++) {
    const head = word.slice(0, i);
    const tail = word.slice(i);
    if (tail) out.push(head + tail.slice(1));
    if (tail.length > 1) out.push(head + tail[1] + tail[0] + tail.slice(2));
    for (const c of ALPHABET) {
      if (tail && c !== tail[0]) out.push(head + c + tail.slice(1));
      out.push(head + c + tail);
    }
  }
  return out;
}

const correctable = (word: string) => word.length >= MIN_LENGTH && /^[a-z]+$/.test(word);

/** Candidates kept per word for the context to choose from. */
const CANDIDATES = 4;

/**
 * The words a whole (folded) word was probably meant to be, most frequent first; empty when it
 * looks right.
 */
export function corrections(word: string, vocabulary: Vocabulary): string[] {
  if (!correctable(word)) return [];
  const own = vocabulary.frequency(word);
  if (own > vocabulary.documents / RARE || own * RATIO >= vocabulary.maxFrequency) return [];
  const floor = Math.max(1, own * RATIO);
  const found = new Map<string, number>();
  for (const candidate of edits1(word)) {
    const df = vocabulary.frequency(candidate);
    if (df >= floor) found.set(candidate, df);
  }
  return [...found].sort((a, b) => b[1] - a[1]).slice(0, CANDIDATES).map(([w]) => w);
}

const CACHE_SIZE = 50_000;
/** Vocabulary changes a cached correction may outlive (one more question rarely changes one). */
const CACHE_CHANGES = 1000;

/** corrections(), remembered per word until the vocabulary has changed enough. */
export class TypoCorrector {
  private readonly cache = new Map<string, string[]>();
  private version = 0;

  constructor(private readonly vocabulary: Vocabulary) {}

  corrections(word: string): string[] {
    if (this.cache.size >= CACHE_SIZE || this.vocabulary.version - this.version > CACHE_CHANGES) {
      this.cache.clear();
      this.version = this.vocabulary.version;
    }
    let found = this.cache.get(word);
    if (found === undefined) this.cache.set(word, (found = corrections(word, this.vocabulary)));
    return found;
  }
}

/**
 * A prefix that starts no word in the corpus, mended: the one-edit variant that starts the most
 * frequent word ("pyht" -> "pyth"). Undefined when the prefix is fine or nothing is near.
 */
export function correctPrefix(prefix: string, vocabulary: Vocabulary): string | undefined {
  if (!correctable(prefix) || vocabulary.hasPrefix(prefix)) return undefined;
  let best: string | undefined;
  let bestDf = 0;
  for (const candidate of new Set(edits1(prefix))) {
    for (const word of vocabulary.withPrefix(candidate)) {
      const df = vocabulary.frequency(word);
      if (df > bestDf) {
        best = candidate;
        bestDf = df;
      }
    }
  }
  return best;
}
