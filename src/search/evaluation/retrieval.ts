/**
 * Ranking metrics for duplicate retrieval, one query at a time: `ranked` are the returned ids
 * in order, `relevant` the ids of the query's true duplicates.
 *   nDCG@k = DCG@k / IDCG@k with binary gains and log2(rank + 1) discounts;
 *   MRR@k = 1 / rank of the first relevant hit (0 if none in the top k);
 *   recall@k = relevant hits in the top k / min(k, |relevant|).
 */
export interface RetrievalMetrics {
  queries: number;
  'ndcg@10': number;
  'mrr@10': number;
  'recall@1': number;
  'recall@10': number;
}

export function ndcgAt(ranked: string[], relevant: Set<string>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function mrrAt(ranked: string[], relevant: Set<string>, k: number): number {
  const i = ranked.slice(0, k).findIndex((id) => relevant.has(id));
  return i < 0 ? 0 : 1 / (i + 1);
}

export function recallAt(ranked: string[], relevant: Set<string>, k: number): number {
  if (relevant.size === 0) return 0;
  return ranked.slice(0, k).filter((id) => relevant.has(id)).length / Math.min(k, relevant.size);
}

/** Averages the per-query metrics. */
export function retrievalMetrics(results: { ranked: string[]; relevant: Set<string> }[]): RetrievalMetrics {
  const mean = (f: (r: { ranked: string[]; relevant: Set<string> }) => number) => results.reduce((s, r) => s + f(r), 0) / Math.max(1, results.length);
  return {
    queries: results.length,
    'ndcg@10': mean((r) => ndcgAt(r.ranked, r.relevant, 10)),
    'mrr@10': mean((r) => mrrAt(r.ranked, r.relevant, 10)),
    'recall@1': mean((r) => recallAt(r.ranked, r.relevant, 1)),
    'recall@10': mean((r) => recallAt(r.ranked, r.relevant, 10)),
  };
}
