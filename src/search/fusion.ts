/**
 * Hybrid ranking: every candidate from either list is scored by
 *   score = bm25 / max(bm25 over the lexical candidates) - alpha * energy
 * (BM25 is 0 for a candidate that only the dense search found). Unlike reciprocal rank fusion,
 * this keeps the magnitudes: a lexical match with a low energy rises, a word-overlap match that
 * the model calls far sinks. On held-out Quora clusters it beats BM25 alone
 * (docs/benchmarks.md, from `npm run bench -- retrieval`).
 */
export interface FusionWeights {
  /** Weight of the energy against normalised BM25. */
  alpha: number;
}

export function fuseScores(lexical: { label: number; bm25: number }[], energies: Map<number, number>, w: FusionWeights): number[] {
  const top = Math.max(1e-9, ...lexical.map((l) => l.bm25));
  const bm25 = new Map(lexical.map((l) => [l.label, l.bm25 / top]));
  const labels = new Set([...energies.keys(), ...bm25.keys()]);
  const score = (label: number) => (bm25.get(label) ?? 0) - w.alpha * (energies.get(label) ?? Infinity);
  return [...labels].sort((a, b) => score(b) - score(a) || a - b);
}
