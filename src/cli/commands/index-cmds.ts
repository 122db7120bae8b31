import { evaluateRetrieval, readRetrievalTask } from '../../evaluation/information-retrieval.js';
import { describeStore, DuplicateIndex } from '../../search/stores.js';
import { type Hit, type SearchMode } from '../../search/backend.js';
import { countQuestions, importQuestions } from '../../search/import-file.js';
import type { DecisionChoice, Model } from '../../model/load.js';
import { migrateStore } from '../../search/migrate.js';
import { ProgressBar, stageBars } from '../progress.js';

export interface IndexContext {
  store: string;
  model: Model;
  log: (m: string) => void;
  hnsw?: { m?: number; efConstruction?: number; ef?: number };
  /** Re-encode a store that another model encoded. */
  reencode?: boolean;
}

export async function openIndex(ctx: IndexContext, readonly = false): Promise<DuplicateIndex> {
  return DuplicateIndex.open(ctx.store, { model: ctx.model, readonly, reencode: ctx.reencode, hnsw: ctx.hnsw, log: ctx.log, onProgress: stageBars('questions') });
}

/** Adds the questions of a file that the store does not hold yet. */
export async function buildCommand(ctx: IndexContext, file: string, skipInvalid: boolean): Promise<void> {
  const total = await countQuestions(file, { strict: !skipInvalid }); // a bad row fails here, before the store changes
  const index = await openIndex(ctx);
  const bar = new ProgressBar('indexing', total, 'questions');
  try {
    const r = await importQuestions(index, file, {
      onInvalid: skipInvalid ? (line, problem) => ctx.log(`${file}:${line}: ${problem} (skipped)`) : undefined,
      onWarning: (line, message) => ctx.log(`${file}:${line}: ${message}`),
      onConflict: (line, id) => ctx.log(`${file}:${line}: id '${id}' already holds another question (skipped)`),
      onProgress: (rows) => bar.update(rows),
    });
    bar.done();
    ctx.log(`added ${r.added}, already present ${r.present}, id conflicts ${r.conflicts}, invalid rows ${r.invalid}; ${r.seconds.toFixed(1)} s (${(r.added / Math.max(r.seconds, 1e-9)).toFixed(0)} questions/s)`);
  } finally {
    await index.close();
  }
}

export async function addCommand(ctx: IndexContext, text: string, id: string | undefined, category: string | undefined, json: boolean): Promise<void> {
  const index = await openIndex(ctx);
  try {
    const { question: q, duplicates } = await index.addIfNew({ id, text, category });
    if (json) process.stdout.write(JSON.stringify({ id: q.id, duplicates }) + '\n');
    else {
      process.stdout.write(`added ${q.id}\n`);
      for (const d of duplicates) process.stdout.write(`  likely duplicate of ${d.id} (energy ${d.energy.toFixed(4)}): ${d.text}\n`);
    }
  } finally {
    await index.close();
  }
}

export async function removeCommand(ctx: IndexContext, id: string): Promise<void> {
  const index = await openIndex(ctx);
  try {
    await index.remove(id);
    process.stdout.write(`removed ${id}\n`);
  } finally {
    await index.close();
  }
}

export async function statsCommand(ctx: IndexContext): Promise<void> {
  const index = await openIndex(ctx, true);
  try {
    process.stdout.write(JSON.stringify((await index.stats({ categories: true })), null, 2) + '\n');
  } finally {
    await index.close();
  }
}

function printHits(hits: Hit[]): void {
  if (hits.length === 0) process.stdout.write('no matches\n');
  hits.forEach((h, i) => {
    const flag = h.isDuplicate ? 'DUP' : '   ';
    process.stdout.write(`${String(i + 1).padStart(2)}. ${flag} energy ${h.energy.toFixed(4)} p ${h.probability.toFixed(3)}  [${h.id}${h.category ? ' / ' + h.category : ''}] ${h.text}\n`);
  });
}

export async function searchCommand(ctx: IndexContext, text: string, opts: { mode: SearchMode; k: number; category?: string; json: boolean } & DecisionChoice): Promise<void> {
  const index = await openIndex(ctx, true);
  try {
    const decision = { operatingPoint: opts.operatingPoint, minProbability: opts.minProbability };
    const hits = await index.search(text, { mode: opts.mode, k: opts.k, category: opts.category, decision });
    if (opts.json) process.stdout.write(JSON.stringify({ mode: opts.mode, decision: ctx.model.decisionFor(text, decision), hits }) + '\n');
    else printHits(hits);
  } finally {
    await index.close();
  }
}

export async function evalRetrievalCommand(ctx: IndexContext, opts: { queries: string; qrels: string; mode: SearchMode; k: number; json: boolean }): Promise<void> {
  const task = await readRetrievalTask(opts.queries, opts.qrels);
  const index = await openIndex(ctx, true);
  try {
    const metrics = await evaluateRetrieval(index, task, opts);
    if (opts.json) process.stdout.write(JSON.stringify(metrics) + '\n');
    else for (const [k, v] of Object.entries(metrics)) process.stdout.write(`${k.padEnd(10)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}\n`);
  } finally {
    await index.close();
  }
}

/** Copies one store into another (directory or PostgreSQL, either way) without re-encoding. */
export async function migrateCommand(model: Model, from: string, to: string, log: (m: string) => void): Promise<void> {
  let bar: ProgressBar | undefined;
  const r = await migrateStore(from, to, model, (done, total) => (bar ??= new ProgressBar('migrating', total, 'questions')).update(done));
  bar?.done();
  // A directory's graph is built now rather than at the first search (a database checks its schema).
  await (await DuplicateIndex.open(to, { model, log, onProgress: stageBars('questions') })).close();
  log(`${describeStore(from)} -> ${describeStore(to)}: copied ${r.copied} of ${r.questions} questions (${r.present} already there), ${r.feedback} feedback pairs, ${r.keys} API keys; ${r.seconds.toFixed(1)} s`);
}
