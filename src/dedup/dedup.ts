import type { Pair } from '../data/pairs.js';
import { readQuestions, type QuestionRecord } from '../data/questions.js';
import type { RecordFormat } from '../data/records.js';
import { type MiningMetrics, paraphraseMining } from '../evaluation/paraphrase-mining.js';
import type { Model } from '../model/load.js';
import type { QuestionEncoder } from '../encoder/question-encoder.js';
import { questionHash } from '../text/question-key.js';
import { type Clustering, type Clusters, communities, connectedComponents, type Link } from './clustering.js';
import { GrowableFloat32, GrowableInt32 } from './growable.js';
import { nearestLinks } from './neighbours.js';

/** How far past the energy threshold a neighbour may be for the verdict stage to confirm it. */
const VERDICT_REACH = 1.5;

export interface DedupOptions {
  model: Model;
  /**
   * Energy at or below which two questions are linked. Default: the model's verdict stage confirms
   * neighbours near its calibrated energy threshold, or without one, that threshold alone.
   */
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
  /** Neighbour pairs within reach of a link, before the verdict stage confirmed them (= links without one). */
  candidateLinks: number;
  /** What confirmed a link: the verdict stage, or the energy threshold alone. */
  linkedBy: 'verdict' | 'energy';
  threshold: number;
  clustering: Clustering;
  seconds: number;
  questionsPerSecond: number;
  timings: { parse: number; encode: number; index: number; link: number; cluster: number; write: number };
  /** Peak resident memory of the process so far. */
  peakMemoryMb: number;
  evaluation?: MiningMetrics;
}

/**
 * Encodes texts as they stream in, a batch at a time, into one growing matrix (row u: the u-th
 * text pushed), and keeps the time spent encoding.
 */
class StreamingEncoder {
  readonly vectors = new GrowableFloat32(1 << 20);
  seconds = 0;
  private pending: string[] = [];

  constructor(
    private readonly encoder: QuestionEncoder,
    private readonly batchSize: number,
  ) {}

  async push(text: string): Promise<void> {
    this.pending.push(text);
    if (this.pending.length >= this.batchSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const t = performance.now();
    this.vectors.append(await this.encoder.encode(this.pending));
    this.seconds += (performance.now() - t) / 1000;
    this.pending = [];
  }
}

/** Rows of a file grouped by exact duplicate: each row's distinct text (its "unique"), and each row's id. */
interface ExactGroups {
  /** questionHash of each distinct text -> its index. */
  keyToUnique: Map<number, number>;
  /** Row r's distinct text. */
  rows: Int32Array;
  rowIds: string[];
}

/**
 * Step 1, read and group: the first pass over the file. Rows whose questionKey is the same are
 * one distinct text; each distinct text goes to `onDistinct` (the encoder) once, when first seen.
 */
async function readExactGroups(
  path: string,
  options: Pick<DedupOptions, 'format' | 'onProgress'>,
  onInvalid: ((line: number, problem: string) => void) | undefined,
  onDistinct: (text: string) => Promise<void>,
): Promise<ExactGroups> {
  const keyToUnique = new Map<number, number>();
  const rowUnique = new GrowableInt32();
  const rowIds: string[] = [];
  for await (const q of readQuestions(path, { format: options.format, onInvalid })) {
    const key = questionHash(q.text);
    let u = keyToUnique.get(key);
    if (u === undefined) {
      u = keyToUnique.size;
      keyToUnique.set(key, u);
      await onDistinct(q.text);
    }
    rowUnique.push(u);
    rowIds.push(q.id);
    if (rowIds.length % 10_000 === 0) options.onProgress?.('encode', rowIds.length);
  }
  return { keyToUnique, rows: rowUnique.view(), rowIds };
}

/** The duplicate groups of a file: which group each distinct text is in, and each group's representative. */
interface Grouping {
  /** Distinct text -> its group (-1: none). */
  uniqueCluster: Int32Array;
  /** Group -> its centre (a distinct text). */
  centres: number[];
  /** Group -> its id in the output (-1: smaller than minClusterSize), in order of first appearance. */
  finalId: Int32Array;
  /** Group -> the first row holding its centre. */
  representativeRow: Int32Array;
  clusters: number;
  inClusters: number;
  largest: number;
}

/**
 * Step 4, cluster: the links between distinct texts become clusters (communities or connected
 * components); exact-duplicate rows with no semantic link form a group of their own; groups of
 * fewer than minClusterSize rows are dropped and the rest numbered in order of first appearance.
 */
function clusterRows(rows: Int32Array, n: number, links: Link[], threshold: number, options: Pick<DedupOptions, 'clustering' | 'minClusterSize'>): Grouping {
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
  return { uniqueCluster, centres, finalId, representativeRow, clusters, inClusters, largest };
}

/** Step 5, write: the second pass re-reads the file and emits the rows that belong to a group, in input order. */
async function writeGroups(
  path: string,
  options: Pick<DedupOptions, 'format' | 'strict' | 'model'>,
  exact: ExactGroups,
  grouping: Grouping,
  vectors: Float32Array,
  emit: (row: DedupRow) => void | Promise<void>,
): Promise<void> {
  const { rows, rowIds } = exact;
  const { uniqueCluster, centres, finalId, representativeRow } = grouping;
  const dim = options.model.classifier.encoder.dim;
  const vec = (u: number) => vectors.subarray(u * dim, (u + 1) * dim);
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
      energyToRepresentative: u === centre ? 0 : options.model.classifier.energy.vectors(vec(u), vec(centre)),
    });
  }
}

/**
 * De-duplicates a question file in two streaming passes: the first groups exact duplicates and
 * encodes each distinct text once (memory: float32 vectors and row-to-text indices); links come
 * from nearest-neighbour search under the threshold and are clustered; the second pass re-reads
 * the file and emits the rows that belong to a group, in input order.
 */
export async function dedupFile(path: string, options: DedupOptions, emit: (row: DedupRow) => void | Promise<void>): Promise<DedupSummary> {
  const { model } = options;
  const threshold = options.threshold ?? model.threshold;
  // With a verdict stage (and no explicit energy threshold), links are neighbours a little beyond
  // the energy threshold that the verdict confirms: lexical evidence can call a pair the energy
  // alone would miss a duplicate, and veto one it would take. That needs the distinct texts kept.
  const verdict = options.threshold === undefined ? model.verdict : undefined;
  const reach = verdict ? threshold * VERDICT_REACH : threshold;
  const texts: string[] = [];
  const started = performance.now();
  let invalid = 0;
  const onInvalid = options.strict
    ? undefined
    : (line: number, problem: string) => {
        invalid++;
        options.onInvalid?.(line, problem);
      };

  // 1-2. Read and group exact duplicates; encode each distinct text once, as it is first seen.
  const encoder = new StreamingEncoder(model.classifier.encoder, options.batchSize ?? 1024);
  const exact = await readExactGroups(path, options, onInvalid, (text) => {
    if (verdict) texts.push(text);
    return encoder.push(text);
  });
  await encoder.flush();
  const pass1Seconds = (performance.now() - started) / 1000;
  const { rows } = exact;
  const n = exact.keyToUnique.size;
  const vectors = encoder.vectors.view();
  options.onProgress?.('encode', rows.length, rows.length);

  // 3. Link each distinct text to its nearest neighbours under the threshold.
  const near = nearestLinks(vectors, model.classifier.encoder.dim, {
    k: options.k,
    threshold: reach,
    energyName: model.files.config.energy,
    energy: model.classifier.energy,
    collectCandidates: Boolean(options.evalPairs),
    onProgress: (stage, done, total) => options.onProgress?.(stage, done, total),
  });
  const { candidates, indexSeconds } = near;
  const confirmStarted = performance.now();
  const links = verdict ? near.links.filter((l) => verdict.judge(texts[l.a], texts[l.b], l.energy).isDuplicate) : near.links;
  const linkSeconds = near.linkSeconds + (performance.now() - confirmStarted) / 1000;

  // 4. Cluster.
  const clusterStarted = performance.now();
  const grouping = clusterRows(rows, n, links, reach, options);
  const clusterSeconds = (performance.now() - clusterStarted) / 1000;

  // 5. Write the grouped rows.
  const writeStarted = performance.now();
  await writeGroups(path, options, exact, grouping, vectors, emit);
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const seconds = (performance.now() - started) / 1000;

  const summary: DedupSummary = {
    questions: rows.length,
    invalid,
    exactDuplicates: rows.length - n,
    clusters: grouping.clusters,
    questionsInClusters: grouping.inClusters,
    largestCluster: grouping.largest,
    links: links.length,
    candidateLinks: near.links.length,
    linkedBy: verdict ? 'verdict' : 'energy',
    threshold,
    clustering: options.clustering,
    seconds,
    questionsPerSecond: rows.length / seconds,
    timings: { parse: pass1Seconds - encoder.seconds, encode: encoder.seconds, index: indexSeconds, link: linkSeconds, cluster: clusterSeconds, write: writeSeconds },
    peakMemoryMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (options.evalPairs) {
    const { uniqueCluster, finalId } = grouping;
    summary.evaluation = paraphraseMining(options.evalPairs, {
      itemOf: (text) => exact.keyToUnique.get(questionHash(text)),
      groupOf: (u) => (uniqueCluster[u] >= 0 ? finalId[uniqueCluster[u]] : -1),
      candidates,
    });
  }
  return summary;
}
