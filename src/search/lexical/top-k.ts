/**
 * BM25 top-k over posting lists without scoring every match: MaxScore (Turtle and Flood) with
 * block-max bounds. Terms are ordered by their score bound; once the k-th best score exceeds the
 * summed bounds of the weakest terms, those terms become non-essential: a document that holds
 * only them cannot enter the top k, so only the essential lists are walked, and the others are
 * looked up (by galloping search) for a candidate that can still make it. A candidate whose
 * block-level bound cannot beat the k-th score is skipped without being scored. Scores are those
 * of SQLite FTS5's bm25() (k1 1.2, b 0.75), negated to "higher is better".
 */
import { blockOf, type Postings } from './postings.js';

export const K1 = 1.2;
export const B = 0.75;

export interface QueryTerm {
  postings: Postings;
  /** idf times how often the term is in the query. */
  weight: number;
}

export interface ScoredDoc {
  doc: number;
  score: number;
}

/** FTS5's idf: never negative (a term in most documents still counts a little). */
export function idf(documents: number, withTerm: number): number {
  const v = Math.log((documents - withTerm + 0.5) / (withTerm + 0.5));
  return v > 0 ? v : 1e-6;
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

/**
 * The k best documents by BM25 over `terms`, best first. `lengths` holds each document's length
 * in tokens, `averageLength` their mean; `accept` (a category, excluded ids) filters candidates
 * before they are scored.
 */
export function topK(terms: QueryTerm[], k: number, lengths: Uint16Array, averageLength: number, accept?: (doc: number) => boolean): ScoredDoc[] {
  const norm = K1 / averageLength;
  const base = K1 * (1 - B);
  // Term frequency part of BM25: increasing in tf, decreasing in document length.
  const part = (tf: number, length: number) => (tf * (K1 + 1)) / (tf + base + B * norm * length);
  const bound = (t: QueryTerm) => t.weight * part(t.postings.maxTf, t.postings.minLen);
  const sorted = terms.filter((t) => t.postings.length > 0).sort((a, b) => bound(a) - bound(b));
  const n = sorted.length;
  const lists = sorted.map((t) => t.postings);
  const weights = sorted.map((t) => t.weight);
  const bounds = sorted.map(bound);
  /** upTo[i]: the summed bounds of terms 0..i. */
  const upTo = new Float64Array(n);
  bounds.reduce((sum, b, i) => (upTo[i] = sum + b), 0);
  const blockBound = (i: number, position: number) => {
    const list = lists[i];
    const b = blockOf(position);
    return weights[i] * part(list.blockMaxTf[b], list.blockMinLen[b]);
  };
  const pos = new Int32Array(n);
  const heap = new TopHeap(k);
  let firstEssential = 0;
  for (;;) {
    let doc = 0x7fffffff;
    for (let i = firstEssential; i < n; i++) {
      if (pos[i] < lists[i].length && lists[i].docs[pos[i]] < doc) doc = lists[i].docs[pos[i]];
    }
    if (doc === 0x7fffffff) break;
    const threshold = heap.threshold;
    const rest = firstEssential > 0 ? upTo[firstEssential - 1] : 0;
    // The candidate's bound from the blocks it sits in, before any scoring.
    let ceiling = rest;
    if (heap.full) {
      for (let i = firstEssential; i < n; i++) if (pos[i] < lists[i].length && lists[i].docs[pos[i]] === doc) ceiling += blockBound(i, pos[i]);
    }
    if ((heap.full && ceiling <= threshold) || (accept && !accept(doc))) {
      for (let i = firstEssential; i < n; i++) if (pos[i] < lists[i].length && lists[i].docs[pos[i]] === doc) pos[i]++;
      continue;
    }
    const length = lengths[doc];
    let score = 0;
    for (let i = firstEssential; i < n; i++) {
      const list = lists[i];
      if (pos[i] < list.length && list.docs[pos[i]] === doc) {
        score += weights[i] * part(list.tfs[pos[i]], length);
        pos[i]++;
      }
    }
    for (let i = firstEssential - 1; i >= 0 && score + upTo[i] > threshold; i--) {
      const list = lists[i];
      pos[i] = list.seek(doc, pos[i]);
      if (pos[i] < list.length && list.docs[pos[i]] === doc) score += weights[i] * part(list.tfs[pos[i]], length);
    }
    if (score > threshold) {
      heap.push(doc, score);
      if (heap.full) while (firstEssential < n && upTo[firstEssential] <= heap.threshold) firstEssential++;
    }
  }
  return heap.sorted();
}
