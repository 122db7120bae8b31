/**
 * Duplicate index: build rate (questions/s) of a real store, single-query latency (tokenize +
 * encode + HNSW top-10, in process) at 100k questions (all real questions, then their vectors
 * perturbed up to 100k), HNSW recall@10 against exact search at the default ef, and bytes per
 * question.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { formatRow } from '../../src/data/delimited.js';
import { DuplicateIndex } from '../../src/search/duplicate-index.js';
import { importQuestions } from '../../src/search/import-file.js';
import { databasePath, indexPath } from '../../src/search/paths.js';
import { DEFAULT_HNSW, spaceFor } from '../../src/search/vector-index.js';
import { loadModel } from '../../src/model/load.js';
import { Random } from '../../src/util/random.js';
import { percentile, realQuestions, report, round } from './common.js';

const TARGET = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-index-'));
try {
  const { texts, dataset } = await realQuestions();
  const model = await loadModel(undefined, { runtime: (process.env.DOPPEL_RUNTIME as 'onnx') ?? 'auto' });
  const dim = model.encoder.dim;
  const file = join(dir, 'questions.tsv');
  writeFileSync(file, ['id\ttext', ...texts.map((t, i) => formatRow([`q${i}`, t], '\t'))].join('\n') + '\n');

  // 1. A real store, end to end: read, encode, SQLite, HNSW.
  const store = join(dir, 'store');
  let index = await DuplicateIndex.open(store, { model });
  const rssBefore = process.memoryUsage().rss;
  const built = await importQuestions(index, file, { batchSize: 1024 });
  index.close();
  const rssAfter = process.memoryUsage().rss;
  report({ bench: 'index', metric: 'store build (read + encode + SQLite + HNSW)', value: round(built.added / built.seconds, 0), unit: 'questions/s', config: { questions: built.added, dataset, encoder: model.encoder.runtime, hnsw: DEFAULT_HNSW } });
  report({
    bench: 'index',
    metric: 'disk per question',
    value: round((statSync(databasePath(store)).size + statSync(indexPath(store)).size) / built.added, 0),
    unit: 'bytes',
    config: { sqlite: statSync(databasePath(store)).size, hnsw: statSync(indexPath(store)).size, dim },
    rssGrowthPerQuestion: round((rssAfter - rssBefore) / built.added, 0),
  });

  // 2. Pad the graph to 100k with perturbed copies of real vectors.
  index = await DuplicateIndex.open(store, { model });
  const real = await model.encoder.encode(texts);
  const rng = new Random(5);
  const synthetic = TARGET - texts.length;
  const extra = new Float32Array(synthetic * dim);
  for (let i = 0; i < synthetic; i++) {
    const src = rng.int(texts.length);
    for (let j = 0; j < dim; j++) extra[i * dim + j] = real[src * dim + j] + rng.normal() * 0.05;
  }
  const padStarted = performance.now();
  for (let i = 0; i < synthetic; i++) index.vectors.add(10_000_000 + i, extra.subarray(i * dim, (i + 1) * dim));
  const padSeconds = (performance.now() - padStarted) / 1000;
  report({ bench: 'index', metric: 'HNSW insert (vectors only)', value: round(synthetic / padSeconds, 0), unit: 'vectors/s', config: { from: texts.length, to: index.vectors.size, hnsw: DEFAULT_HNSW } });

  // 3. Single-query latency: tokenize + encode + top-10, one at a time, as the service does.
  const queries = Array.from({ length: 2000 }, (_, i) => texts[(i * 7919) % texts.length]);
  for (const q of queries.slice(0, 100)) index.searchEncoded(q, await model.encoder.encode([q]), { mode: 'dense', k: 10 });
  const times: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    index.searchEncoded(q, await model.encoder.encode([q]), { mode: 'dense', k: 10 });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const latencyConfig = { questions: index.vectors.size, queries: queries.length, encoder: model.encoder.runtime, ef: index.vectors.params.ef };
  report({ bench: 'index', metric: 'query latency p50 (encode + dense top-10)', value: round(percentile(times, 50), 3), unit: 'ms', config: latencyConfig });
  report({ bench: 'index', metric: 'query latency p99 (encode + dense top-10)', value: round(percentile(times, 99), 3), unit: 'ms', target: '<= 2 ms at 75k+ (issue 6)', config: latencyConfig });
  const hybridTimes: number[] = [];
  for (const q of queries.slice(0, 500)) {
    const t = performance.now();
    await index.search(q, { mode: 'hybrid', k: 10 });
    hybridTimes.push(performance.now() - t);
  }
  hybridTimes.sort((a, b) => a - b);
  report({ bench: 'index', metric: 'query latency p99 (encode + hybrid top-10 with BM25)', value: round(percentile(hybridTimes, 99), 3), unit: 'ms', config: { ...latencyConfig, queries: 500 }, p50: round(percentile(hybridTimes, 50), 3) });

  // 4. Recall@10 of the graph against exact search over the same vectors.
  const exact = new hnswlib.BruteforceSearch(spaceFor(model.files.config.energy), dim);
  exact.initIndex(index.vectors.size);
  for (let i = 0; i < texts.length; i++) exact.addPoint(Array.from(real.subarray(i * dim, (i + 1) * dim)), index.store.get(`q${i}`)!.label);
  for (let i = 0; i < synthetic; i++) exact.addPoint(Array.from(extra.subarray(i * dim, (i + 1) * dim)), 10_000_000 + i);
  let agree = 0;
  const probes = 300;
  for (let i = 0; i < probes; i++) {
    const q = real.subarray(((i * 104729) % texts.length) * dim, (((i * 104729) % texts.length) + 1) * dim);
    const truth = new Set(exact.searchKnn(Array.from(q), 10).neighbors);
    agree += index.vectors.search(q, 10).filter((r) => truth.has(r.label)).length;
  }
  report({ bench: 'index', metric: 'HNSW recall@10 vs exact', value: round(agree / (10 * probes), 4), unit: 'recall', target: '>= 0.99', config: { questions: index.vectors.size, ...index.vectors.params, probes } });
  index.store.close(); // the padded graph is not saved
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
