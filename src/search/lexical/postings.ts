/**
 * One term's posting list: document ids ascending with their term frequencies, in growable typed
 * arrays, and over the whole list the largest frequency and the shortest document, which bound
 * the term's BM25 score (top-k search skips what that bound cannot lift into the top k).
 */
const MAX_U16 = 0xffff;

export class Postings {
  docs = new Int32Array(4);
  tfs = new Uint16Array(4);
  length = 0;
  maxTf = 0;
  minLen = MAX_U16;

  private grow(): void {
    const docs = new Int32Array(this.docs.length * 2);
    docs.set(this.docs);
    this.docs = docs;
    const tfs = new Uint16Array(this.tfs.length * 2);
    tfs.set(this.tfs);
    this.tfs = tfs;
  }

  /** Adds a document; in the usual case its id is the largest yet (the store's labels only grow). */
  add(doc: number, tf: number, docLength: number): void {
    const at = this.length > 0 && this.docs[this.length - 1] > doc ? this.seek(doc, 0) : this.length;
    if (at < this.length && this.docs[at] === doc) return;
    if (this.length === this.docs.length) this.grow();
    this.docs.copyWithin(at + 1, at, this.length);
    this.tfs.copyWithin(at + 1, at, this.length);
    this.docs[at] = doc;
    this.tfs[at] = Math.min(tf, MAX_U16);
    this.length++;
    this.maxTf = Math.max(this.maxTf, this.tfs[at]);
    this.minLen = Math.min(this.minLen, docLength);
  }

  /** Removes a document (a deleted question); false when it was not in the list. */
  remove(doc: number, lengthOf: (doc: number) => number): boolean {
    const at = this.seek(doc, 0);
    if (at >= this.length || this.docs[at] !== doc) return false;
    this.docs.copyWithin(at, at + 1, this.length);
    this.tfs.copyWithin(at, at + 1, this.length);
    this.length--;
    this.maxTf = 0;
    this.minLen = MAX_U16;
    for (let i = 0; i < this.length; i++) {
      this.maxTf = Math.max(this.maxTf, this.tfs[i]);
      this.minLen = Math.min(this.minLen, lengthOf(this.docs[i]));
    }
    return true;
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
