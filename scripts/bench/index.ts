/**
 * Duplicate index, through the library API: build rate (questions/s) of a store of the real
 * questions, disk per question, and single-query latency (tokenize + encode + search, as the
 * service does) with queries held out of the store. Then the HNSW graph alone at 100k vectors
 * (every real question's vector, then perturbed copies of them up to 100k: there are not 100k
 * real questions here): insert rate and recall@10 against exact search, with held-out queries.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRow } from '../../src/data/delimited.js';
import { retrievalMetrics } from '../../src/evaluation/information-retrieval.js';
import type { Energy } from '../../src/encoder/energies/energy.js';
import { loadModel } from '../../src/model/load.js';
import { DuplicateIndex } from '../../src/search/stores.js';
import { importQuestions } from '../../src/search/import-file.js';
import { databasePath, indexPath } from '../../src/search/directory/paths.js';
import { DEFAULT_HNSW } from '../../src/search/backend.js';
import { spaceFor, VectorIndex } from '../../src/search/directory/vector-index.js';
import { Random } from '../../src/util/random.js';
import { latencies, realQuestions, report, round, splitHeldOut } from './common.js';

const TARGET = 100_000;
const HELD_OUT = 2000;
const PROBES = 300;

/** The k labels of least energy, by brute force. */
function exactTopK(query: Float32Array, vectors: Float32Array, dim: number, k: number, energy: Energy): number[] {
  const scored: { label: number; e: number }[] = [];
  for (let i = 0; i < vectors.length / dim; i++) scored.push({ label: i, e: energy.vectors(query, vectors.subarray(i * dim, (i + 1) * dim)) });
  return scored.sort((a, b) => a.e - b.e).slice(0, k).map((s) => s.label);
}

const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-index-'));
try {
  const { texts: all, dataset } = await realQuestions();
  const { stored: texts, queries: heldOut } = splitHeldOut(all, HELD_OUT);
  const model = await loadModel(undefined, { runtime: (process.env.DOPPEL_RUNTIME as 'onnx') ?? 'auto' });
  const dim = model.encoder.dim;
  const file = join(dir, 'questions.tsv');
  writeFileSync(file, ['id\ttext', ...texts.map((t, i) => formatRow([`q${i}`, t], '\t'))].join('\n') + '\n');

  // 1. A real store, end to end: read, encode, SQLite, HNSW.
  const store = join(dir, 'store');
  const index = await DuplicateIndex.open(store, { model });
  const rssBefore = process.memoryUsage().rss;
  const built = await importQuestions(index, file, { batchSize: 1024 });
  await index.save();
  const rssAfter = process.memoryUsage().rss;
  const storeConfig = { questions: built.added, dataset, encoder: model.encoder.runtime, hnsw: DEFAULT_HNSW };
  report({ bench: 'index', metric: 'store build (read + encode + SQLite + HNSW)', value: round(built.added / built.seconds, 0), unit: 'questions/s', config: storeConfig });
  report({
    bench: 'index',
    metric: 'disk per question',
    value: round((statSync(databasePath(store)).size + statSync(indexPath(store)).size) / built.added, 0),
    unit: 'bytes',
    config: { sqlite: statSync(databasePath(store)).size, hnsw: statSync(indexPath(store)).size, dim },
    rssGrowthPerQuestion: round((rssAfter - rssBefore) / built.added, 0),
  });

  // 2. Single-query latency on the real store: tokenize + encode + top-10, one at a time.
  const queryConfig = { questions: built.added, queries: heldOut.length, queriesHeldOut: true, encoder: model.encoder.runtime, ef: DEFAULT_HNSW.ef, dataset };
  for (const mode of ['dense', 'hybrid'] as const) {
    for (const q of heldOut.slice(0, 100)) await index.search(q, { mode, k: 10 });
    const times: number[] = [];
    for (const q of heldOut) {
      const t = performance.now();
      await index.search(q, { mode, k: 10 });
      times.push(performance.now() - t);
    }
    const { p50, p99 } = latencies(times);
    report({ bench: 'index', metric: `query latency p99 (encode + ${mode} top-10), real questions`, value: p99, unit: 'ms', config: { ...queryConfig, mode }, p50 });
  }
  await index.close();

  // 3. The graph alone at 100k: the real vectors, then perturbed copies of them.
  const real = await model.encoder.encode(texts);
  const queries = await model.encoder.encode(heldOut.slice(0, PROBES));
  const rng = new Random(5);
  const vectors = new Float32Array(TARGET * dim);
  vectors.set(real.subarray(0, Math.min(real.length, vectors.length)));
  for (let i = texts.length; i < TARGET; i++) {
    const src = rng.int(texts.length);
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = real[src * dim + j] + rng.normal() * 0.05;
  }
  const graph = VectorIndex.create(spaceFor(model.files.config.energy), dim, { ...DEFAULT_HNSW }, TARGET);
  const started = performance.now();
  for (let i = 0; i < TARGET; i++) graph.add(i, vectors.subarray(i * dim, (i + 1) * dim));
  const graphConfig = { vectors: TARGET, real: texts.length, perturbedCopies: TARGET - texts.length, noise: 'N(0, 0.05) per dimension', ...DEFAULT_HNSW, dataset };
  report({ bench: 'index', metric: 'HNSW insert, 100k vectors (real + perturbed copies)', value: round(TARGET / ((performance.now() - started) / 1000), 0), unit: 'vectors/s', config: graphConfig });
  const results: { ranked: string[]; relevant: Set<string> }[] = [];
  const times: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const q = queries.subarray(i * dim, (i + 1) * dim);
    const t = performance.now();
    const found = graph.search(q, 10);
    times.push(performance.now() - t);
    // The exact top 10 are the relevant ones: recall@10 is the share of them the graph returns.
    results.push({ ranked: found.map((r) => String(r.label)), relevant: new Set(exactTopK(q, vectors, dim, 10, model.energy).map(String)) });
  }
  report({ bench: 'index', metric: 'HNSW recall@10 vs exact, 100k vectors (real + perturbed copies)', value: round(retrievalMetrics(results)['recall@10'], 4), unit: 'recall', target: '>= 0.99', config: { ...graphConfig, probes: PROBES, probesHeldOut: true }, searchMs: latencies(times) });
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
