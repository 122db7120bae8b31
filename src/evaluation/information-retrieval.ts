/**
 * Information-retrieval evaluator for duplicate search (as sentence-transformers'
 * InformationRetrievalEvaluator, on a BEIR-style task): each query is a question whose true
 * duplicates (its qrels) are stored; `ranked` are the ids a search returns, best first, and
 * `relevant` the ids of the query's duplicates. Binary relevance throughout.
 */
import type { Pair } from '../data/pairs.js';
import { readRows } from '../data/records.js';
import { DoppelError, invalidFile } from '../errors.js';
import { questionKey } from '../text/question-key.js';
import { KeyedUnionFind } from '../util/union-find.js';

export interface RetrievalMetrics {
  queries: number;
  'ndcg@10': number;
  'mrr@10': number;
  'recall@1': number;
  'recall@10': number;
}

/**
 * Normalised discounted cumulative gain (Järvelin & Kekäläinen 2002) with binary gains:
 * nDCG@k = DCG@k / IDCG@k, DCG@k = sum over relevant hits at rank i <= k of 1 / log2(i + 1), and
 * IDCG@k the DCG of the ideal ranking (min(k, |relevant|) hits first). 0 when nothing is relevant.
 */
export function ndcgAt(ranked: string[], relevant: Set<string>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Reciprocal rank (Voorhees 1999, TREC-8 QA): MRR@k = 1 / rank of the first relevant hit, 0 if none in the top k. */
export function mrrAt(ranked: string[], relevant: Set<string>, k: number): number {
  const i = ranked.slice(0, k).findIndex((id) => relevant.has(id));
  return i < 0 ? 0 : 1 / (i + 1);
}

/** recall@k = relevant hits in the top k / min(k, |relevant|), so that a perfect top k scores 1. */
export function recallAt(ranked: string[], relevant: Set<string>, k: number): number {
  if (relevant.size === 0) return 0;
  return ranked.slice(0, k).filter((id) => relevant.has(id)).length / Math.min(k, relevant.size);
}

/** The per-query metrics averaged over the queries. */
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

/** A query: a question's text and, when the question is stored itself, its corpus id (left out of its results). */
export interface RetrievalQuery {
  queryId: string;
  corpusId: string;
  text: string;
}

/** The judged queries of a task and the relevant corpus ids of each. */
export interface RetrievalTask {
  queries: RetrievalQuery[];
  relevant: Map<string, Set<string>>;
}

async function readTable(path: string, columns: string[]): Promise<Record<string, string>[]> {
  const rows: Record<string, string>[] = [];
  for await (const { line, values, problem } of readRows(path)) {
    if (problem) throw invalidFile(path, line, problem);
    const missing = columns.filter((c) => !(c in values));
    if (missing.length > 0) throw invalidFile(path, line, `missing column(s) ${missing.join(', ')}`);
    rows.push(values);
  }
  return rows;
}

/**
 * Reads a retrieval task (scripts/build-retrieval-task.ts writes one): queries (query_id,
 * corpus_id, text) and qrels (query_id, corpus_id). Queries with no judgement are dropped; a task
 * with none left is refused.
 */
export async function readRetrievalTask(queriesPath: string, qrelsPath: string): Promise<RetrievalTask> {
  const queries = await readTable(queriesPath, ['query_id', 'corpus_id', 'text']);
  const qrels = await readTable(qrelsPath, ['query_id', 'corpus_id']);
  const relevant = new Map<string, Set<string>>();
  for (const r of qrels) {
    const set = relevant.get(r.query_id) ?? new Set<string>();
    set.add(r.corpus_id);
    relevant.set(r.query_id, set);
  }
  const judged = queries.filter((q) => relevant.has(q.query_id));
  if (judged.length === 0) throw new DoppelError('INVALID_INPUT', 'no query has a relevance judgement in --qrels');
  return { queries: judged.map((q) => ({ queryId: q.query_id, corpusId: q.corpus_id, text: q.text })), relevant };
}

/** What the evaluator needs of an index (the search layer's DuplicateIndex has it): evaluation sits below search. */
export interface Searcher<Mode extends string> {
  searchMany(queries: { text: string; exclude?: string[] }[], options: { mode: Mode; k: number }): Promise<{ id: string }[][]>;
}

/**
 * The evaluator: searches every query of the task (its own entry excluded) with the index and
 * averages the metrics. Keys in the order `doppel eval-retrieval` prints them.
 */
export async function evaluateRetrieval<Mode extends string>(
  index: Searcher<NoInfer<Mode>>,
  task: RetrievalTask,
  options: { mode: Mode; k: number },
): Promise<{ queries: number; mode: Mode } & Omit<RetrievalMetrics, 'queries'>> {
  const hits = await index.searchMany(
    task.queries.map((q) => ({ text: q.text, exclude: q.corpusId ? [q.corpusId] : [] })),
    { mode: options.mode, k: options.k },
  );
  const m = retrievalMetrics(task.queries.map((q, i) => ({ ranked: hits[i].map((h) => h.id), relevant: task.relevant.get(q.queryId)! })));
  return { queries: m.queries, mode: options.mode, 'ndcg@10': m['ndcg@10'], 'mrr@10': m['mrr@10'], 'recall@1': m['recall@1'], 'recall@10': m['recall@10'] };
}

/**
 * A retrieval task from labelled pairs: every distinct question of `pairs` (by questionKey) is in
 * the corpus; duplicate-labelled pairs of `heldOut` join held-out questions into clusters, and
 * every member of a cluster of two or more asks once, the rest of its cluster being what it
 * should find (its own entry is excluded from its results).
 */
export function retrievalTaskFromPairs(pairs: readonly Pair[], heldOut: readonly Pair[]): { corpus: { id: string; text: string }[]; task: RetrievalTask } {
  const ids = new Map<string, { id: string; text: string }>();
  for (const p of pairs) {
    for (const q of [p.q1, p.q2]) {
      const key = questionKey(q);
      if (!ids.has(key)) ids.set(key, { id: `q${ids.size + 1}`, text: q });
    }
  }
  const uf = new KeyedUnionFind();
  for (const p of heldOut) {
    const [a, b] = [questionKey(p.q1), questionKey(p.q2)];
    uf.add(a);
    uf.add(b);
    if (p.label === 1 && a !== b) uf.union(a, b);
  }
  const queries: RetrievalQuery[] = [];
  const relevant = new Map<string, Set<string>>();
  for (const members of uf.groups().values()) {
    if (members.length < 2) continue;
    for (const m of members) {
      const queryId = `Q${queries.length + 1}`;
      queries.push({ queryId, corpusId: ids.get(m)!.id, text: ids.get(m)!.text });
      relevant.set(queryId, new Set(members.filter((o) => o !== m).map((o) => ids.get(o)!.id)));
    }
  }
  return { corpus: [...ids.values()], task: { queries, relevant } };
}
