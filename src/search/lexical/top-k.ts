/**
 * BM25 top-k over posting lists without scoring every match: MaxScore (Turtle and Flood), term
 * at a time. Terms are taken strongest score bound first. Their lists are walked whole, into a
 * score per document, only while a document not seen yet could still reach the top k: once the
 * k-th best score so far exceeds the summed bounds of the terms left, those (the common words,
 * with the long lists) are only looked up, by galloping search, for the candidates that can
 * still make it, and a candidate that cannot is dropped. Scores are those of SQLite FTS5's
 * bm25() (k1 1.2, b 0.75), negated to "higher is better".
 */
import type { Postings } from './postings.js';

export const K1 = 1.2;
export const B = 0.75;

/**
 * A query term: one posting list, or the lists of a prefix's completions, scored together as
 * FTS5 scores a prefix phrase (its frequency in a document is the sum of theirs).
 */
export interface QueryTerm {
  lists: Postings[];
  /** idf times how often the term is in the query. */
  weight: number;
}

export interface Scratch {
  /** A score per document id: all zeros between searches. */
  scores: Float64Array;
  /** A term frequency per document id: all zeros between searches. */
  counts: Float64Array;
}

export interface ScoredDoc {
  doc: number;
  score: number;
}

/** The idf FTS5 gives a term in half the documents or more. */
export const MIN_IDF = 1e-6;

/** FTS5's idf: never negative (a term in most documents still counts a little). */
export function idf(documents: number, withTerm: number): number {
  const v = Math.log((documents - withTerm + 0.5) / (withTerm + 0.5));
  return v > 0 ? v : MIN_IDF;
}

/** A min-heap of the best k (score, doc) pairs; a tie keeps the smaller doc, as FTS5's scan order does. */
class TopHeap {
  readonly scores: Float64Array;
  readonly docs: Int32Array;
  size = 0;
  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.docs = new Int32Array(k);
  }
  get full(): boolean {
    return this.size === this.k;
  }
  get threshold(): number {
    return this.full ? this.scores[0] : 0;
  }
  push(doc: number, score: number): void {
    if (this.full) {
      if (score <= this.scores[0]) return;
      this.scores[0] = score;
      this.docs[0] = doc;
      this.down(0);
      return;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.scores[parent] <= score) break;
      this.scores[i] = this.scores[parent];
      this.docs[i] = this.docs[parent];
      i = parent;
    }
    this.scores[i] = score;
    this.docs[i] = doc;
  }
  private down(i: number): void {
    const { scores, docs, size } = this;
    const score = scores[i];
    const doc = docs[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && scores[child + 1] < scores[child]) child++;
      if (scores[child] >= score) break;
      scores[i] = scores[child];
      docs[i] = docs[child];
      i = child;
    }
    scores[i] = score;
    docs[i] = doc;
  }
  sorted(): ScoredDoc[] {
    const out: ScoredDoc[] = [];
    for (let i = 0; i < this.size; i++) out.push({ doc: this.docs[i], score: this.scores[i] });
    return out.sort((a, b) => b.score - a.score || a.doc - b.doc);
  }
}

/** The k-th largest of `values` (k <= values.length), by a bounded min-heap. */
function kthLargest(values: Float64Array, count: number, k: number): number {
  const heap = new TopHeap(k);
  for (let i = 0; i < count; i++) heap.push(i, values[i]);
  return heap.threshold;
}

/**
 * The k best documents by BM25 over `terms`, best first. `lengths` holds each document's length
 * in tokens, `averageLength` their mean; `accept` (a category, excluded ids) filters candidates;
 * `scores` is scratch space indexed by document, all zeros, left all zeros.
 */
export function topK(terms: QueryTerm[], k: number, lengths: Uint16Array, averageLength: number, scratch: Scratch, accept?: (doc: number) => boolean): ScoredDoc[] {
  const { scores, counts } = scratch;
  const base = K1 * (1 - B);
  const norm = (B * K1) / averageLength;
  // Term frequency part of BM25: increasing in tf, decreasing in document length.
  const part = (tf: number, length: number) => (tf * (K1 + 1)) / (tf + base + norm * length);
  const bounds = new Map(terms.map((t) => [t, t.weight * part(t.lists.reduce((sum, l) => sum + l.maxTf, 0), Math.min(...t.lists.map((l) => l.minLen)))]));
  const bound = (t: QueryTerm) => bounds.get(t)!;
  const sorted = terms.filter((t) => t.lists.some((l) => l.length > 0)).sort((a, b) => bound(b) - bound(a));
  let rest = sorted.reduce((sum, t) => sum + bound(t), 0);
  let candidates = new Int32Array(64);
  let count = 0;
  let threshold = 0;
  let j = 0;
  // Collect: walk whole lists, strongest bound first, while a document not seen yet could still
  // reach the top k (the bounds of the lists left exceed the k-th best score so far).
  for (; j < sorted.length && !(count >= k && rest <= threshold); j++) {
    const { lists, weight } = sorted[j];
    if (lists.length === 1) {
      // One list: each document once, so its frequency is final as it is read.
      const { docs, tfs, length } = lists[0];
      for (let i = 0; i < length; i++) {
        const doc = docs[i];
        if (scores[doc] === 0) {
          if (accept && !accept(doc)) continue;
          if (count === candidates.length) candidates = grow(candidates);
          candidates[count++] = doc;
        }
        scores[doc] += weight * part(tfs[i], lengths[doc]);
      }
      rest -= bound(sorted[j]);
      if (count >= k) threshold = kthLargest(gather(scores, candidates, count), count, k);
      continue;
    }
    const seen: number[] = [];
    for (const { docs, tfs, length } of lists) {
      for (let i = 0; i < length; i++) {
        const doc = docs[i];
        if (counts[doc] === 0) {
          if (accept && !accept(doc)) continue;
          seen.push(doc);
        }
        counts[doc] += tfs[i];
      }
    }
    for (const doc of seen) {
      if (scores[doc] === 0) {
        if (count === candidates.length) candidates = grow(candidates);
        candidates[count++] = doc;
      }
      scores[doc] += weight * part(counts[doc], lengths[doc]);
      counts[doc] = 0;
    }
    rest -= bound(sorted[j]);
    if (count >= k) threshold = kthLargest(gather(scores, candidates, count), count, k);
  }
  // Refine: the weaker lists only add to candidates that can still make it, found by galloping.
  let live = candidates.subarray(0, count).sort();
  for (; j < sorted.length; j++) {
    const { lists, weight } = sorted[j];
    const b = bound(sorted[j]);
    rest -= b;
    let kept = 0;
    const at = new Int32Array(lists.length);
    for (let c = 0; c < live.length; c++) {
      const doc = live[c];
      // Strictly below: a candidate that can only tie the k-th may be one of the k.
      if (scores[doc] + b + rest < threshold) {
        scores[doc] = 0;
        continue;
      }
      let tf = 0;
      for (let l = 0; l < lists.length; l++) {
        const list = lists[l];
        at[l] = list.seek(doc, at[l]);
        if (at[l] < list.length && list.docs[at[l]] === doc) tf += list.tfs[at[l]];
      }
      if (tf > 0) scores[doc] += weight * part(tf, lengths[doc]);
      live[kept++] = doc;
    }
    live = live.subarray(0, kept);
    if (kept >= k) threshold = kthLargest(gather(scores, live, kept), kept, k);
  }
  const heap = new TopHeap(k);
  for (let c = 0; c < live.length; c++) {
    heap.push(live[c], scores[live[c]]);
    scores[live[c]] = 0;
  }
  return heap.sorted();
}

function grow(docs: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(docs.length * 2);
  grown.set(docs);
  return grown;
}

function gather(scores: Float64Array, docs: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = scores[docs[i]];
  return out;
}
