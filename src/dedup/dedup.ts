import type { Pair } from '../data/pairs.js';
import { readQuestions, type QuestionRecord } from '../data/questions.js';
import type { RecordFormat } from '../data/records.js';
import { questionKey } from '../data/split.js';
import { averagePrecision } from '../model/evaluation/binary.js';
import type { Model } from '../model/load.js';
import { type Clustering, type Clusters, communities, connectedComponents, type Link } from './clustering.js';
import { GrowableFloat32, GrowableInt32, hash52 } from './growable.js';
import { nearestLinks } from './neighbours.js';

export interface DedupOptions {
  model: Model;
  /** Energy at or below which two questions are linked; default the model's calibrated threshold. */
  threshold?: number;
  k: number;
  clustering: Clustering;
  minClusterSize: number;
  format?: RecordFormat;
  /** Stop at the first malformed row instead of reporting and skipping it. */
  strict: boolean;
  evalPairs?: Pair[];
  batchSize?: number;
  onInvalid?: (line: number, problem: string) => void;
  onProgress?: (stage: string, done: number, total?: number) => void;
}

/** One output row: a question in a duplicate group. */
export interface DedupRow {
  clusterId: number;
  record: QuestionRecord;
  representativeId: string;
  energyToRepresentative: number;
}

export interface DedupSummary {
  questions: number;
  invalid: number;
  exactDuplicates: number;
  clusters: number;
  questionsInClusters: number;
  largestCluster: number;
  links: number;
  threshold: number;
  clustering: Clustering;
  seconds: number;
  questionsPerSecond: number;
  timings: { parse: number; encode: number; index: number; link: number; cluster: number; write: number };
  /** Peak resident memory of the process so far. */
  peakMemoryMb: number;
  evaluation?: { pairs: number; precision: number; recall: number; f1: number; miningAveragePrecision: number };
}

/**
 * De-duplicates a question file in two streaming passes: the first groups exact duplicates and
 * encodes each distinct text once (memory: float32 vectors and row-to-text indices); links come
 * from nearest-neighbour search under the threshold and are clustered; the second pass re-reads
 * the file and emits the rows that belong to a group, in input order.
 */
export async function dedupFile(path: string, options: DedupOptions, emit: (row: DedupRow) => void | Promise<void>): Promise<DedupSummary> {
  const { model } = options;
  const dim = model.encoder.dim;
  const threshold = options.threshold ?? model.threshold;
  const batchSize = options.batchSize ?? 1024;
  const started = performance.now();
  let encodeSeconds = 0;
  let invalid = 0;
  const onInvalid = options.strict
    ? undefined
    : (line: number, problem: string) => {
        invalid++;
        options.onInvalid?.(line, problem);
      };

  // Pass 1: exact-duplicate keys, one vector per distinct text.
  const keyToUnique = new Map<number, number>();
  const rowUnique = new GrowableInt32();
  const rowIds: string[] = [];
  const vectors = new GrowableFloat32(1 << 20);
  const uniqueKeys: number[] = [];
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const t = performance.now();
    vectors.push(await model.encoder.encode(pending));
    encodeSeconds += (performance.now() - t) / 1000;
    pending = [];
  };
  for await (const q of readQuestions(path, { format: options.format, onInvalid })) {
    const key = hash52(questionKey(q.text) || q.text);
    let u = keyToUnique.get(key);
    if (u === undefined) {
      u = keyToUnique.size;
      keyToUnique.set(key, u);
      uniqueKeys.push(key);
      pending.push(q.text);
      if (pending.length >= batchSize) await flush();
    }
    rowUnique.push(u);
    rowIds.push(q.id);
    if (rowIds.length % 10_000 === 0) options.onProgress?.('encode', rowIds.length);
  }
  await flush();
  const pass1Seconds = (performance.now() - started) / 1000;
  const rows = rowUnique.view();
  const n = keyToUnique.size;
  const all = vectors.view();
  options.onProgress?.('encode', rows.length, rows.length);

  // Links between distinct texts, then clusters of distinct texts.
  const { links, candidates, indexSeconds, linkSeconds } = nearestLinks(all, dim, {
    k: options.k,
    threshold,
    energyName: model.files.config.energy,
    energy: model.energy,
    collectCandidates: Boolean(options.evalPairs),
    onProgress: (stage, done, total) => options.onProgress?.(stage, done, total),
  });
  const clusterStarted = performance.now();
  const rowsPerUnique = new Int32Array(n);
  for (const u of rows) rowsPerUnique[u]++;
  const centrality = new Float64Array(n);
  for (const l of links) {
    centrality[l.a] += threshold - l.energy + 1e-9;
    centrality[l.b] += threshold - l.energy + 1e-9;
  }
  const semantic: Clusters = options.clustering === 'community' ? communities(n, links) : connectedComponents(n, links, centrality);

  // Exact-duplicate groups with no semantic link still form a group of their own.
  const uniqueCluster = new Int32Array(n).fill(-1);
  const centres: number[] = [];
  const size: number[] = [];
  const remap = new Map<number, number>();
  for (let u = 0; u < n; u++) {
    const s = semantic.labels[u];
    let c: number | undefined;
    if (s >= 0) {
      c = remap.get(s);
      if (c === undefined) {
        c = centres.length;
        remap.set(s, c);
        centres.push(semantic.centres[s]);
        size.push(0);
      }
    } else if (rowsPerUnique[u] > 1) {
      c = centres.length;
      centres.push(u);
      size.push(0);
    }
    if (c !== undefined) {
      uniqueCluster[u] = c;
      size[c] += rowsPerUnique[u];
    }
  }
  // Final ids in order of first appearance, only for groups of at least minClusterSize rows.
  const finalId = new Int32Array(centres.length).fill(-1);
  const representativeRow = new Int32Array(centres.length).fill(-1);
  let clusters = 0;
  let inClusters = 0;
  let largest = 0;
  for (let r = 0; r < rows.length; r++) {
    const c = uniqueCluster[rows[r]];
    if (c < 0 || size[c] < options.minClusterSize) continue;
    if (finalId[c] < 0) {
      finalId[c] = clusters++;
      largest = Math.max(largest, size[c]);
    }
    if (representativeRow[c] < 0 && rows[r] === centres[c]) representativeRow[c] = r;
    inClusters++;
  }
  const clusterSeconds = (performance.now() - clusterStarted) / 1000;

  // Pass 2: emit grouped rows in input order.
  const writeStarted = performance.now();
  const vec = (u: number) => all.subarray(u * dim, (u + 1) * dim);
  let r = 0;
  for await (const record of readQuestions(path, { format: options.format, onInvalid: options.strict ? undefined : () => {} })) {
    const u = rows[r];
    const c = uniqueCluster[u];
    r++;
    if (c < 0 || finalId[c] < 0) continue;
    const centre = centres[c];
    await emit({
      clusterId: finalId[c],
      record,
      representativeId: rowIds[representativeRow[c]],
      energyToRepresentative: u === centre ? 0 : model.energy.vectors(vec(u), vec(centre)),
    });
  }
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const seconds = (performance.now() - started) / 1000;

  const summary: DedupSummary = {
    questions: rows.length,
    invalid,
    exactDuplicates: rows.length - n,
    clusters,
    questionsInClusters: inClusters,
    largestCluster: largest,
    links: links.length,
    threshold,
    clustering: options.clustering,
    seconds,
    questionsPerSecond: rows.length / seconds,
    timings: { parse: pass1Seconds - encodeSeconds, encode: encodeSeconds, index: indexSeconds, link: linkSeconds, cluster: clusterSeconds, write: writeSeconds },
    peakMemoryMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (options.evalPairs) summary.evaluation = evaluate(options.evalPairs, keyToUnique, uniqueCluster, finalId, candidates);
  return summary;
}

/**
 * Pairwise precision/recall/F1 of "in the same group" against labelled pairs whose questions
 * are in the input, and the average precision of ranking the candidate pairs by energy
 * (paraphrase mining, as sentence-transformers' ParaphraseMiningEvaluator).
 */
function evaluate(pairs: Pair[], keyToUnique: Map<number, number>, uniqueCluster: Int32Array, finalId: Int32Array, candidates: Link[]) {
  const uniqueOf = (text: string) => keyToUnique.get(hash52(questionKey(text) || text));
  const groupOf = (u: number) => (uniqueCluster[u] >= 0 ? finalId[uniqueCluster[u]] : -1);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let used = 0;
  const gold = new Set<string>();
  for (const p of pairs) {
    const a = uniqueOf(p.q1);
    const b = uniqueOf(p.q2);
    if (a === undefined || b === undefined) continue;
    used++;
    const same = a === b || (groupOf(a) >= 0 && groupOf(a) === groupOf(b));
    if (p.label === 1) {
      if (a !== b) gold.add(`${Math.min(a, b)}:${Math.max(a, b)}`); // exact duplicates are not mined
      same ? tp++ : fn++;
    } else if (same) fp++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const energies = candidates.map((c) => c.energy);
  const labels = candidates.map((c) => (gold.has(`${c.a}:${c.b}`) ? 1 : 0));
  // AP over the mined list, normalised by all gold duplicates (those never mined count as misses).
  const found = labels.reduce((s: number, y) => s + y, 0);
  const miningAveragePrecision = gold.size === 0 ? 0 : (averagePrecision(energies, labels) * found) / gold.size;
  return { pairs: used, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall), miningAveragePrecision };
}
