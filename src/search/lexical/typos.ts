/**
 * Typo tolerance by the corpus's own words (as Meilisearch and Typesense do, and Norvig's
 * corrector): a word no document holds, or one far rarer than a word one edit away (a
 * deletion, insertion, substitution or transposition), is taken for a slip of that word. A word
 * shorter than MIN_LENGTH is left alone: too many real words lie one edit from it.
 */
import type { Vocabulary } from './vocabulary.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
const MIN_LENGTH = 3;
/** A known word is replaced only by one this many times as frequent ("recieve" -> "receive", not "form" -> "from"). */
const RATIO = 20;

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

/** The word a whole (folded) word was probably meant to be, or undefined when it looks right. */
export function correctWord(word: string, vocabulary: Vocabulary): string | undefined {
  if (!correctable(word)) return undefined;
  const own = vocabulary.frequency(word);
  let best: string | undefined;
  let bestDf = Math.max(1, own * RATIO) - 1;
  for (const candidate of edits1(word)) {
    const df = vocabulary.frequency(candidate);
    if (df > bestDf) {
      best = candidate;
      bestDf = df;
    }
  }
  return best;
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
