/**
 * One term's posting list: document ids ascending with their term frequencies, in growable typed
 * arrays, and per block of BLOCK postings the largest frequency and the shortest document. Those
 * two bound the block's BM25 score, which lets top-k search skip documents and blocks that cannot
 * make the top k (block-max, as in Lucene and PISA).
 */
export const BLOCK = 64;
const SHIFT = 6;
const MAX_U16 = 0xffff;

export class Postings {
  docs = new Int32Array(4);
  tfs = new Uint16Array(4);
  length = 0;
  blockMaxTf = new Uint16Array(1);
  blockMinLen = new Uint16Array(1).fill(MAX_U16);
  /** Over the whole list: the term's score bound. */
  maxTf = 0;
  minLen = MAX_U16;

  private grow(): void {
    const docs = new Int32Array(this.docs.length * 2);
    docs.set(this.docs);
    this.docs = docs;
    const tfs = new Uint16Array(this.tfs.length * 2);
    tfs.set(this.tfs);
    this.tfs = tfs;
    const blocks = (this.docs.length + BLOCK - 1) >> SHIFT;
    if (blocks > this.blockMaxTf.length) {
      const maxTf = new Uint16Array(blocks);
      maxTf.set(this.blockMaxTf);
      const minLen = new Uint16Array(blocks).fill(MAX_U16);
      minLen.set(this.blockMinLen);
      this.blockMaxTf = maxTf;
      this.blockMinLen = minLen;
    }
  }

  /** Adds a document; in the usual case its id is the largest yet (the store's labels only grow). */
  add(doc: number, tf: number, docLength: number, lengthOf: (doc: number) => number): void {
    if (this.length === this.docs.length) this.grow();
    const at = this.length > 0 && this.docs[this.length - 1] > doc ? this.seek(doc, 0) : this.length;
    if (at < this.length && this.docs[at] === doc) return;
    this.docs.copyWithin(at + 1, at, this.length);
    this.tfs.copyWithin(at + 1, at, this.length);
    this.docs[at] = doc;
    this.tfs[at] = Math.min(tf, MAX_U16);
    this.length++;
    if (at === this.length - 1) {
      const block = at >> SHIFT;
      this.blockMaxTf[block] = Math.max(this.blockMaxTf[block], this.tfs[at]);
      this.blockMinLen[block] = Math.min(this.blockMinLen[block], docLength);
      this.maxTf = Math.max(this.maxTf, this.tfs[at]);
      this.minLen = Math.min(this.minLen, docLength);
    } else this.rebound(at, lengthOf);
  }

  /** Removes a document (a deleted question); false when it was not in the list. */
  remove(doc: number, lengthOf: (doc: number) => number): boolean {
    const at = this.seek(doc, 0);
    if (at >= this.length || this.docs[at] !== doc) return false;
    this.docs.copyWithin(at, at + 1, this.length);
    this.tfs.copyWithin(at, at + 1, this.length);
    this.length--;
    this.rebound(at, lengthOf);
    return true;
  }

  /** Recomputes the bounds of the blocks from position `at` on, and the list's. */
  private rebound(at: number, lengthOf: (doc: number) => number): void {
    const first = at >> SHIFT;
    this.blockMaxTf.fill(0, first);
    this.blockMinLen.fill(MAX_U16, first);
    for (let i = first * BLOCK; i < this.length; i++) {
      const b = i >> SHIFT;
      this.blockMaxTf[b] = Math.max(this.blockMaxTf[b], this.tfs[i]);
      this.blockMinLen[b] = Math.min(this.blockMinLen[b], lengthOf(this.docs[i]));
    }
    const blocks = (this.length + BLOCK - 1) >> SHIFT;
    this.maxTf = 0;
    this.minLen = MAX_U16;
    for (let b = 0; b < blocks; b++) {
      this.maxTf = Math.max(this.maxTf, this.blockMaxTf[b]);
      this.minLen = Math.min(this.minLen, this.blockMinLen[b]);
    }
  }

  /** The first position at or after `from` whose document is >= doc (galloping, then binary search). */
  seek(doc: number, from: number): number {
    const docs = this.docs;
    const n = this.length;
    if (from >= n || docs[from] >= doc) return from;
    let lo = from;
    let step = 1;
    let hi = from + 1;
    while (hi < n && docs[hi] < doc) {
      lo = hi;
      step *= 2;
      hi = from + step;
    }
    if (hi > n) hi = n;
    while (lo + 1 < hi) {
      const mid = (lo + hi) >> 1;
      if (docs[mid] < doc) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}

export const blockOf = (position: number) => position >> SHIFT;

/** How many documents two lists share: the shorter one walked, the longer one searched. */
export function sharedDocuments(a: Postings, b: Postings): number {
  const [small, large] = a.length <= b.length ? [a, b] : [b, a];
  let shared = 0;
  let at = 0;
  for (let i = 0; i < small.length && at < large.length; i++) {
    at = large.seek(small.docs[i], at);
    if (at < large.length && large.docs[at] === small.docs[i]) shared++;
  }
  return shared;
}
