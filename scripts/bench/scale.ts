/**
 * Serving at a million questions (scale-store.ts: the real questions plus perturbed copies, as
 * every label says). In process, with held-out queries: the lexical top-50 of the in-memory
 * index beside FTS5's on the same texts and queries (the engine it replaces), then encode +
 * search as the service runs it (dense, hybrid, and suggest: prefix hybrid top-5 of a title cut
 * as typed). Then HTTP load from this process on a server over the same store, one process and
 * two (http-load.ts).
 */
import Sqlite from 'better-sqlite3';
import { ftsQuery } from '../../src/text/bm25-query.js';
import { LexicalIndex } from '../../src/search/lexical/lexical-index.js';
import { loadModel } from '../../src/model/load.js';
import type { SearchOptions } from '../../src/search/backend.js';
import { DuplicateIndex } from '../../src/search/stores.js';
import { QuestionStore } from '../../src/search/directory/store.js';
import { Random } from '../../src/util/random.js';
import { latencies, report, round } from './common.js';
import { httpLoad } from './http-load.js';
import { scaleStore } from './scale-store.js';

const WARM = 100;
const { store, queries, questions, dataset, label } = await scaleStore();
const config = { questions, data: label, queries: queries.length, queriesHeldOut: true, dataset };

async function time(run: (q: string) => unknown, texts: string[]): Promise<number[]> {
  for (const q of texts.slice(0, WARM)) await run(q);
  const times: number[] = [];
  for (const q of texts) {
    const t = performance.now();
    await run(q);
    times.push(performance.now() - t);
  }
  return times;
}

// 1. The lexical engines alone, top 50 (the hybrid candidate pool).
{
  const sqlite = new QuestionStore(store, { readonly: true });
  const lexical = new LexicalIndex();
  const started = performance.now();
  const heapBefore = process.memoryUsage();
  for (const row of sqlite.liveTexts()) lexical.add(row.label, row.text);
  const buildSeconds = (performance.now() - started) / 1000;
  const heapAfter = process.memoryUsage();
  const memoryMb = round((heapAfter.heapUsed + heapAfter.arrayBuffers - heapBefore.heapUsed - heapBefore.arrayBuffers) / 1e6, 0);
  // The peer: FTS5 over the same texts, in a scratch database (stores no longer keep an FTS5 copy).
  const peer = new Sqlite(':memory:');
  peer.exec("CREATE VIRTUAL TABLE f USING fts5(text, content='', tokenize='porter unicode61 remove_diacritics 2', prefix='2 3 4')");
  const put = peer.prepare('INSERT INTO f (rowid, text) VALUES (?, ?)');
  peer.transaction(() => {
    for (const row of sqlite.liveTexts()) put.run(row.label, row.text);
  })();
  const match = peer.prepare('SELECT rowid AS label, bm25(f) AS score FROM f WHERE f MATCH ? ORDER BY score LIMIT ?');
  const fts = latencies(await time((q) => (ftsQuery(q) ? match.all(ftsQuery(q), 50) : []), queries));
  peer.close();
  const ours = latencies(await time((q) => lexical.search(q, 50), queries));
  report({
    bench: 'scale',
    metric: 'lexical BM25 top-50 p99, 1M questions (real + perturbed copies)',
    value: ours.p99,
    unit: 'ms',
    config: { ...config, engine: 'in-memory inverted index, MaxScore term at a time', peer: 'FTS5 bm25() over the same store' },
    p50: ours.p50,
    fts5: fts,
    speedupP99OverFts5: round(fts.p99 / ours.p99, 1),
    speedupP50OverFts5: round(fts.p50 / ours.p50, 1),
    buildSeconds: round(buildSeconds, 1),
    memoryMb,
  });
  sqlite.close();
}

// 2. Encode + search, as the service runs it.
{
  const model = await loadModel(undefined, { runtime: (process.env.DOPPEL_RUNTIME as 'onnx') ?? 'auto' });
  const index = await DuplicateIndex.open(store, { model, readonly: true });
  const rng = new Random(3);
  const typed = queries.map((q) => q.slice(0, Math.max(3, Math.floor(q.length * (0.3 + 0.6 * rng.next())))));
  const paths: { name: string; texts: string[]; options: SearchOptions; target?: string }[] = [
    { name: 'dense top-10', texts: queries, options: { mode: 'dense', k: 10 } },
    { name: 'hybrid top-10', texts: queries, options: { mode: 'hybrid', k: 10 }, target: '<= 5 ms' },
    { name: 'suggest (prefix hybrid, typo-tolerant) top-5', texts: typed, options: { mode: 'hybrid', k: 5, prefix: true }, target: '<= 5 ms' },
  ];
  for (const path of paths) {
    const { p50, p99 } = latencies(await time((q) => index.search(q, path.options), path.texts));
    report({ bench: 'scale', metric: `encode + ${path.name} p99, in process, 1M questions (real + perturbed copies)`, value: p99, unit: 'ms', target: path.target, config: { ...config, ...path.options, encoder: model.encoder.runtime }, p50 });
  }
  index.close();
  model.dispose();
}

// 3. HTTP, one process and two.
const targets = { '/v1/duplicates@1': '<= 10 ms', '/v1/suggest@1': '<= 10 ms', '/v1/duplicates@16': '>= 500 req/s, >= 25 % of /healthz', '/v1/duplicates@64': 'p99 <= 500 ms, 0 errors (503s counted)', '/v1/suggest@64': 'p99 <= 500 ms, 0 errors (503s counted)' };
for (const workers of [1, 2]) await httpLoad({ bench: 'scale', store, texts: queries, workers, targets, config: { questions, data: label, queriesHeldOut: true, dataset } });
