/**
 * Documents (the store's labels) by term, with what BM25 needs: each document's length in
 * tokens, the number of documents and their total length. Deleted documents leave their
 * posting lists at once, so a search never meets them.
 */
import { Postings } from './postings.js';
import type { Scratch } from './top-k.js';

export class InvertedIndex {
  private readonly lists = new Map<string, Postings>();
  private lengths = new Uint16Array(1024);
  private present = new Uint8Array(1024);
  private scores = new Float64Array(1024);
  private counts = new Float64Array(1024);
  private count = 0;
  private totalLength = 0;
  private readonly lengthOf = (doc: number) => this.lengths[doc];

  get documents(): number {
    return this.count;
  }

  get averageLength(): number {
    return this.count === 0 ? 1 : this.totalLength / this.count;
  }

  /** Scratch space for top-k, per document id: all zeros between searches. */
  get scratch(): Scratch {
    return { scores: this.scores, counts: this.counts };
  }

  /** Document lengths by id, for scoring (read-only to callers). */
  get documentLengths(): Uint16Array {
    return this.lengths;
  }

  has(doc: number): boolean {
    return doc < this.present.length && this.present[doc] === 1;
  }

  postings(term: string): Postings | undefined {
    const p = this.lists.get(term);
    return p && p.length > 0 ? p : undefined;
  }

  private reserve(doc: number): void {
    if (doc < this.lengths.length) return;
    const size = Math.max(doc + 1, this.lengths.length * 2);
    const lengths = new Uint16Array(size);
    lengths.set(this.lengths);
    const present = new Uint8Array(size);
    present.set(this.present);
    this.lengths = lengths;
    this.present = present;
    this.scores = new Float64Array(size);
    this.counts = new Float64Array(size);
  }

  /** Adds a document's terms (all its tokens, in order); a document already present is left as it is. */
  add(doc: number, terms: string[]): boolean {
    if (this.has(doc)) return false;
    this.reserve(doc);
    const length = Math.min(terms.length, 0xffff);
    this.lengths[doc] = length;
    this.present[doc] = 1;
    this.count++;
    this.totalLength += length;
    for (const [term, tf] of frequencies(terms)) {
      let list = this.lists.get(term);
      if (!list) this.lists.set(term, (list = new Postings()));
      list.add(doc, tf, length);
    }
    return true;
  }

  /** Removes a document, given the terms it was added with; false when it is not present. */
  remove(doc: number, terms: string[]): boolean {
    if (!this.has(doc)) return false;
    for (const term of new Set(terms)) this.lists.get(term)?.remove(doc, this.lengthOf);
    this.present[doc] = 0;
    this.count--;
    this.totalLength -= this.lengths[doc];
    return true;
  }
}

function frequencies(terms: string[]): Map<string, number> {
  const tf = new Map<string, number>();
  for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
  return tf;
}
