/**
 * How often each word follows another in the indexed questions (folded words, with the start and
 * the end of a question as words of their own): the context the spelling model weighs a
 * correction by. Pairs are keyed by the vocabulary's word numbers in an open-addressing table of
 * typed arrays (24 bytes a pair at most), exact rather than a sketch: the rare pairs, which an
 * approximate count gets most wrong, are the ones that decide a correction.
 */
import { DoppelError } from '../../errors.js';
import type { Vocabulary } from './vocabulary.js';

/** Stand for the start and the end of a question; no folded word holds these characters. */
export const START = '\u0002';
export const END = '\u0003';
const START_ID = -1;
const END_ID = -2;
const EMPTY = -3;
/** The table doubles when this share of its slots is taken. */
const LOAD = 0.5;

export class BigramCounts {
  private first = new Int32Array(1024).fill(EMPTY);
  private second = new Int32Array(1024);
  private counts = new Uint32Array(1024);
  private taken = 0;
  /** By word number + 2 (the start and the end are -1 and -2): pairs it begins, distinct words after it, distinct words before it. */
  private pairsFrom = new Int32Array(1024);
  private after = new Int32Array(1024);
  private before = new Int32Array(1024);
  /** Distinct pairs counted. */
  types = 0;

  constructor(private readonly vocabulary: Vocabulary) {}

  /** Counts the adjacent pairs of one question's words, which the vocabulary has counted. */
  add(words: string[]): void {
    this.update(words, 1);
  }

  /** Takes back what `add` counted for the same words. */
  remove(words: string[]): void {
    this.update(words, -1);
  }

  count(a: string, b: string): number {
    const x = this.idOf(a);
    const y = this.idOf(b);
    return x === undefined || y === undefined ? 0 : this.countIds(x, y);
  }

  /** `count` by word numbers (idOf): what a caller that scores many pairs of the same words asks. */
  countIds(x: number, y: number): number {
    const at = this.slot(x, y);
    return this.first[at] === EMPTY ? 0 : this.counts[at];
  }

  /** How many pairs begin with the word; how many distinct words follow it; how many distinct words precede it. */
  contexts(word: string): { pairs: number; after: number; before: number } {
    const id = this.idOf(word);
    if (id === undefined || id + 2 >= this.pairsFrom.length) return { pairs: 0, after: 0, before: 0 };
    return { pairs: this.pairsFrom[id + 2], after: this.after[id + 2], before: this.before[id + 2] };
  }

  /** The word's number (START and END included); undefined for a word never counted. */
  idOf(word: string): number | undefined {
    return word === START ? START_ID : word === END ? END_ID : this.vocabulary.id(word);
  }

  private update(words: string[], by: 1 | -1): void {
    let previous = START_ID;
    for (let i = 0; i <= words.length; i++) {
      const next = i === words.length ? END_ID : this.vocabulary.id(words[i]);
      if (next === undefined) throw new DoppelError('INTERNAL', `bigram counts: '${words[i]}' is not in the vocabulary`);
      this.bump(previous, next, by);
      previous = next;
    }
  }

  private bump(x: number, y: number, by: 1 | -1): void {
    let at = this.slot(x, y);
    if (this.first[at] === EMPTY) {
      if (by < 0) return;
      if (this.taken + 1 > this.first.length * LOAD) {
        this.grow();
        at = this.slot(x, y);
      }
      this.first[at] = x;
      this.second[at] = y;
      this.taken++;
    }
    if (by < 0 && this.counts[at] === 0) return;
    // A pair whose count falls to 0 keeps its slot: probing stays simple, and it is likely seen again.
    const was = this.counts[at];
    this.counts[at] += by;
    this.fit(Math.max(x, y) + 2);
    this.pairsFrom[x + 2] += by;
    if (was === 0 || this.counts[at] === 0) {
      this.after[x + 2] += by;
      this.before[y + 2] += by;
      this.types += by;
    }
  }

  /** Where the pair is, or the empty slot it would take (linear probing). */
  private slot(x: number, y: number): number {
    const mask = this.first.length - 1;
    let h = Math.imul(x ^ Math.imul(y, 0x9e3779b1), 0x85ebca77);
    h ^= h >>> 13;
    let at = Math.imul(h, 0xc2b2ae35) & mask;
    while (this.first[at] !== EMPTY && (this.first[at] !== x || this.second[at] !== y)) at = (at + 1) & mask;
    return at;
  }

  private fit(index: number): void {
    if (index < this.pairsFrom.length) return;
    let size = this.pairsFrom.length;
    while (size <= index) size *= 2;
    for (const name of ['pairsFrom', 'after', 'before'] as const) {
      const grown = new Int32Array(size);
      grown.set(this[name]);
      this[name] = grown;
    }
  }

  private grow(): void {
    const { first, second, counts } = this;
    this.first = new Int32Array(first.length * 2).fill(EMPTY);
    this.second = new Int32Array(first.length * 2);
    this.counts = new Uint32Array(first.length * 2);
    for (let i = 0; i < first.length; i++) {
      if (first[i] === EMPTY) continue;
      const at = this.slot(first[i], second[i]);
      this.first[at] = first[i];
      this.second[at] = second[i];
      this.counts[at] = counts[i];
    }
  }
}
