/** Typing slips for the typo benchmarks and the consistency test: seeded, one per word. */
import type { Random } from '../../src/util/random.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function slip(word: string, rng: Random): string {
  const i = rng.int(word.length);
  const letter = LETTERS[rng.int(LETTERS.length)];
  switch (rng.int(4)) {
    case 0:
      return word.slice(0, i) + word.slice(i + 1);
    case 1:
      return word.slice(0, i) + letter + word.slice(i);
    case 2:
      return word.slice(0, i) + (letter === word[i] ? LETTERS[(LETTERS.indexOf(letter) + 1) % 26] : letter) + word.slice(i + 1);
    default:
      return i + 1 < word.length ? word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2) : word.slice(0, i - 1) + word[i] + word[i - 1];
  }
}

/** One slip in every word of three letters or more. */
export const withTypos = (text: string, rng: Random) => text.replace(/[A-Za-z]{3,}/g, (w) => slip(w, rng));
