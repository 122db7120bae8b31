/**
 * Weighted reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009):
 *   score(d) = sum_r w_r / (k0 + rank_r(d)), ranks from 1; absent from a ranking adds nothing.
 */
export interface FusionWeights {
  dense: number;
  lexical: number;
  k0: number;
}

export function reciprocalRankFusion(dense: number[], lexical: number[], w: FusionWeights): { label: number; score: number }[] {
  const scores = new Map<number, number>();
  dense.forEach((label, i) => scores.set(label, (scores.get(label) ?? 0) + w.dense / (w.k0 + i + 1)));
  lexical.forEach((label, i) => scores.set(label, (scores.get(label) ?? 0) + w.lexical / (w.k0 + i + 1)));
  return [...scores].map(([label, score]) => ({ label, score })).sort((a, b) => b.score - a.score);
}
