import { existsSync } from 'node:fs';
import { DoppelError } from '../errors.js';
import type { Model } from '../model/load.js';
import { databasePath } from './paths.js';
import { Database, isPostgresUrl, redactUrl } from './postgres/connection.js';
import { migrate as migrateSchema, readSchema } from './postgres/schema.js';
import { PostgresTransfer } from './postgres/transfer.js';
import { QuestionStore, StoreTransfer, type FeedbackRecord, type TransferRow } from './store.js';
import { DEFAULT_HNSW } from './vector-index.js';

/** One side of a copy: the same operations on a directory or a database. */
interface End {
  modelId(): Promise<string | undefined>;
  count(): Promise<number>;
  rows(after: number, limit: number): Promise<{ label: number; row: TransferRow }[]>;
  present(ids: string[]): Promise<Set<string>>;
  write(rows: TransferRow[]): Promise<void>;
  feedback(after: number): Promise<FeedbackRecord[]>;
  meta(key: string): Promise<string | undefined>;
  writeFeedback(rows: FeedbackRecord[], marker: { key: string; value: string }): Promise<void>;
  close(): Promise<void>;
}

export interface MigrateReport {
  questions: number;
  copied: number;
  /** Ids the target holds already (a resumed copy): skipped. */
  present: number;
  feedback: number;
  seconds: number;
}

const BATCH = 500;

async function openEnd(location: string, model: Model, role: 'source' | 'target'): Promise<End> {
  if (isPostgresUrl(location)) {
    const db = new Database(location, 2, { efSearch: DEFAULT_HNSW.ef }, () => {});
    try {
      const schema =
        role === 'source'
          ? await readSchema(db)
          : await migrateSchema(db, { modelId: model.id, dim: model.encoder.dim, energy: model.files.config.energy, hnsw: DEFAULT_HNSW });
      const t = new PostgresTransfer(db);
      return {
        modelId: async () => schema.modelId,
        count: () => t.count(),
        rows: (after, limit) => t.rows(after, limit),
        present: (ids) => t.present(ids),
        write: (rows) => t.write(rows),
        feedback: (after) => t.feedback(after),
        meta: (key) => t.meta(key),
        writeFeedback: (rows, marker) => t.writeFeedback(rows, marker),
        close: () => db.end(),
      };
    } catch (err) {
      await db.end();
      throw err;
    }
  }
  if (role === 'source' && !existsSync(databasePath(location))) throw new DoppelError('INVALID_INPUT', `--from: no Doppel store at ${location}`);
  const store = new QuestionStore(location, { readonly: role === 'source' });
  const t = new StoreTransfer(store);
  return {
    modelId: async () => store.meta('model_id'),
    count: async () => t.count(),
    rows: async (after, limit) => t.rows(after, limit),
    present: async (ids) => t.present(ids),
    write: async (rows) => t.write(rows),
    feedback: async (after) => t.feedback(after),
    meta: async (key) => store.meta(key),
    writeFeedback: async (rows, marker) => t.writeFeedback(rows, marker),
    close: async () => store.close(),
  };
}

/**
 * Copies a store's questions (with their vectors, times and deletions) and feedback into another
 * store, directory or database either way, without re-encoding. Resumable: questions already in
 * the target are skipped, and the feedback copied so far is recorded in the target with it.
 */
export async function migrateStore(from: string, to: string, model: Model, onProgress?: (done: number, total: number) => void): Promise<MigrateReport> {
  const started = performance.now();
  const source = await openEnd(from, model, 'source');
  try {
    const sourceModel = await source.modelId();
    if (sourceModel && sourceModel !== model.id) {
      throw new DoppelError('INVALID_INPUT', `${redactUrl(from)} holds vectors of model ${sourceModel}, not ${model.id}: pass that model's directory with --model`);
    }
    const target = await openEnd(to, model, 'target');
    try {
      const report = { questions: await source.count(), copied: 0, present: 0, feedback: 0 };
      let done = 0;
      for (let after = 0; ; ) {
        const batch = await source.rows(after, BATCH);
        if (batch.length === 0) break;
        after = batch[batch.length - 1].label;
        const foreign = batch.find((b) => b.row.modelId !== model.id);
        if (foreign) throw new DoppelError('STORE_ERROR', `question '${foreign.row.id}' has a vector of model ${foreign.row.modelId}: open ${redactUrl(from)} for writing once to re-encode it`);
        const taken = await target.present(batch.map((b) => b.row.id));
        const fresh = batch.filter((b) => !taken.has(b.row.id)).map((b) => b.row);
        report.present += batch.length - fresh.length;
        if (fresh.length > 0) await target.write(fresh);
        report.copied += fresh.length;
        done += batch.length;
        onProgress?.(done, report.questions);
      }
      const key = `migrated_feedback_from:${redactUrl(from)}`;
      const feedback = await source.feedback(Number((await target.meta(key)) ?? 0));
      for (let i = 0; i < feedback.length; i += BATCH) {
        const slice = feedback.slice(i, i + BATCH);
        await target.writeFeedback(slice, { key, value: String(slice[slice.length - 1].id) });
        report.feedback += slice.length;
      }
      return { ...report, seconds: (performance.now() - started) / 1000 };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
