/**
 * The PostgreSQL store beside the directory store, holding the same questions: retrieval quality
 * (eval-retrieval on the held-out clusters of scripts/build-retrieval-task.ts, scored through the
 * CLI on both stores) and in-process search latency with questions held out of both stores.
 * The directory store is built with `doppel index build` and copied into PostgreSQL with
 * `doppel index migrate`, so both hold the very same vectors.
 *
 * PostgreSQL here is PGlite: PostgreSQL 18 compiled to WebAssembly, run inside this process and
 * served over the wire protocol by pglite-socket (scripts/pglite-server.ts). Its latency is that
 * of a single-threaded WebAssembly database sharing this process's event loop, not a server's; a
 * native PostgreSQL is expected to be faster. PGlite builds the HNSW graph at 200-250 questions/s on
 * this machine, so the corpus is a slice: every judged question plus random distractors.
 * Needs ../shared/data/qqp-pairs, like the retrieval bench; without it nothing is reported.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { formatRow } from '../../src/data/delimited.js';
import { readQuestions } from '../../src/data/questions.js';
import { readRetrievalTask } from '../../src/evaluation/information-retrieval.js';
import type { DuplicateIndex, SearchMode } from '../../src/search/backend.js';
import { loadModel } from '../../src/model/load.js';
import { defaultModelDir } from '../../src/model/model-dir.js';
import { openIndex } from '../../src/search/stores.js';
import { DEFAULT_HNSW } from '../../src/search/backend.js';
import { Random } from '../../src/util/random.js';
import { startPglite } from '../pglite-server.js';
import { percentile, report, ROOT, round } from './common.js';

const PAIRS = resolve(ROOT, '../shared/data/qqp-pairs/pairs.tsv');
const CLI = join(ROOT, 'dist/src/cli/main.js');
/** Questions in both stores: copying all 58k into PGlite would take over 4 minutes alone. */
const CORPUS = 20_000;
const LATENCY_QUERIES = 1000;
const WARMUP = 50;
const POSTGRES = 'PGlite 0.5.14 (PostgreSQL 18 in WebAssembly, in the bench process) over pglite-socket + pg: not a native server';

// Asynchronous: PGlite answers the child processes from this process's event loop.
const run = async (script: string, args: string[]) => (await promisify(execFile)(process.execPath, [script, ...args], { maxBuffer: 1 << 26 })).stdout;

/** The corpus cut to CORPUS questions (every judged one kept), and questions of neither store. */
async function sliceCorpus(task: string, seed: number): Promise<{ kept: { id: string; text: string }[]; heldOut: string[]; total: number }> {
  const { queries, relevant } = await readRetrievalTask(join(task, 'queries.tsv'), join(task, 'qrels.tsv'));
  const judged = new Set([...queries.map((q) => q.corpusId), ...[...relevant.values()].flatMap((ids) => [...ids])]);
  const corpus: { id: string; text: string }[] = [];
  for await (const q of readQuestions(join(task, 'corpus.tsv'))) corpus.push({ id: q.id, text: q.text });
  const others = new Random(seed).shuffle(corpus.filter((q) => !judged.has(q.id)));
  const distractors = new Set(others.slice(0, Math.max(0, CORPUS - judged.size)).map((q) => q.id));
  return {
    kept: corpus.filter((q) => judged.has(q.id) || distractors.has(q.id)),
    heldOut: others.slice(distractors.size, distractors.size + LATENCY_QUERIES).map((q) => q.text),
    total: corpus.length,
  };
}

/** Single-query latency (ms) of each store, the stores taking turns going first so that load spikes hit both alike. */
async function latencies(stores: DuplicateIndex[], queries: string[], mode: SearchMode): Promise<{ p50: number; p99: number }[]> {
  for (const q of queries.slice(0, WARMUP)) for (const s of stores) await s.search(q, { mode, k: 10 });
  const times = stores.map(() => [] as number[]);
  for (const [i, q] of queries.entries()) {
    for (let j = 0; j < stores.length; j++) {
      const s = (i + j) % stores.length;
      const t = performance.now();
      await stores[s].search(q, { mode, k: 10 });
      times[s].push(performance.now() - t);
    }
  }
  return times.map((t) => {
    const sorted = t.sort((a, b) => a - b);
    return { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3) };
  });
}

if (!existsSync(PAIRS)) {
  process.stderr.write('[bench postgres] ../shared/data/qqp-pairs is missing: nothing reported\n');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-postgres-'));
  const pg = await startPglite();
  try {
    const { settings } = JSON.parse(readFileSync(join(defaultModelDir(), 'training.json'), 'utf8')) as { settings: { seed: number } };
    const task = join(dir, 'task');
    await run(join(ROOT, 'dist/scripts/build-retrieval-task.js'), ['--pairs', PAIRS, '--out', task, '--seed', String(settings.seed)]);
    const { kept, heldOut, total } = await sliceCorpus(task, settings.seed);
    const corpus = join(dir, 'corpus.tsv');
    writeFileSync(corpus, ['id\ttext', ...kept.map((q) => formatRow([q.id, q.text], '\t'))].join('\n') + '\n');
    const store = join(dir, 'store');
    await run(CLI, ['index', 'build', '--store', store, '--questions', corpus]);
    const started = performance.now();
    await run(CLI, ['index', 'migrate', '--from', store, '--to', pg.url]);
    process.stderr.write(`[bench postgres] migrated ${kept.length} questions into PGlite in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    const data = `held-out question clusters of qqp-pairs (seed ${settings.seed}); corpus: ${kept.length} of the file's ${total} questions, every judged one plus random distractors`;

    const score = async (location: string, mode: SearchMode) =>
      JSON.parse(await run(CLI, ['eval-retrieval', '--store', location, '--queries', join(task, 'queries.tsv'), '--qrels', join(task, 'qrels.tsv'), '--mode', mode, '--json'])) as Record<string, number>;
    for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
      const directory = await score(store, mode);
      const postgres = await score(pg.url, mode);
      report({
        bench: 'postgres',
        metric: `${mode} retrieval nDCG@10, PostgreSQL (PGlite) beside the directory store`,
        value: round(postgres['ndcg@10'], 3),
        unit: 'nDCG@10',
        ...(mode === 'dense' ? { target: "within 0.01 of the directory store's" } : {}),
        config: { mode, questions: kept.length, queries: postgres.queries, bm25: 'PostgreSQL: pg_textsearch (english); directory: in-memory BM25, FTS5-compatible (porter unicode61)', data },
        'mrr@10': round(postgres['mrr@10'], 3),
        directory: { 'ndcg@10': round(directory['ndcg@10'], 3), 'mrr@10': round(directory['mrr@10'], 3) },
        difference: round(postgres['ndcg@10'] - directory['ndcg@10'], 3),
      });
    }

    const model = await loadModel();
    const stores = [await openIndex(store, { model, readonly: true }), await openIndex(pg.url, { model, readonly: true })];
    try {
      for (const mode of ['dense', 'hybrid'] as const) {
        const [directory, postgres] = await latencies(stores, heldOut, mode);
        report({
          bench: 'postgres',
          metric: `${mode} search latency p99 (encode + top-10), PGlite (WebAssembly PostgreSQL) beside the directory store`,
          value: postgres.p99,
          unit: 'ms',
          config: { mode, questions: kept.length, queries: heldOut.length, queriesHeldOut: true, encoder: model.encoder.runtime, hnsw: DEFAULT_HNSW, postgres: POSTGRES },
          p50: postgres.p50,
          directory,
          ratioToDirectory: { p50: round(postgres.p50 / directory.p50, 1), p99: round(postgres.p99 / directory.p99, 1) },
        });
      }
    } finally {
      for (const s of stores) await s.close();
      model.dispose();
    }
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
