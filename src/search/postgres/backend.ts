import { DEFAULT_HNSW, type StoreBackend, type TransferEnd } from '../backend.js';
import { PostgresKeyStore } from './api-keys.js';
import { Database, redactUrl } from './connection.js';
import { readFeedbackPairs } from './feedback.js';
import { PostgresIndex } from './postgres-index.js';
import { PostgresReviewQueue } from './review-queue.js';
import { migrate, readMeta, readSchema } from './schema.js';
import { PostgresTransfer } from './transfer.js';

/** Runs `work` on a small pool of its own, ended whatever happens. */
async function withDatabase<T>(url: string, size: number, work: (db: Database) => Promise<T>): Promise<T> {
  const db = new Database(url, size, { efSearch: DEFAULT_HNSW.ef }, () => {});
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/** A PostgreSQL database with pgvector: questions, vectors and feedback in tables, BM25 in the database. */
export const postgresBackend: StoreBackend = {
  name: 'postgres',
  readReplicas: true,
  describe: redactUrl,
  open: (url, options) => PostgresIndex.open(url, options),
  readFeedback: (url) => withDatabase(url, 1, readFeedbackPairs),

  async openTransfer(url, model, role): Promise<TransferEnd> {
    const db = new Database(url, 2, { efSearch: DEFAULT_HNSW.ef }, () => {});
    try {
      const schema =
        role === 'source'
          ? await readSchema(db)
          : await migrate(db, { modelId: model.id, dim: model.encoder.dim, energy: model.files.config.energy, hnsw: DEFAULT_HNSW });
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
  },

  async recordedModel(url) {
    return withDatabase(url, 1, async (db) => {
      const meta = await readMeta((sql) => db.read(sql));
      const id = meta.get('model_id');
      return id ? { id, dir: meta.get('model_dir') || null } : undefined;
    });
  },

  async openKeys(url) {
    const db = new Database(url, 2, { efSearch: DEFAULT_HNSW.ef }, () => {});
    try {
      await readSchema(db);
      return new PostgresKeyStore(db);
    } catch (err) {
      await db.end();
      throw err;
    }
  },

  async openReview(url, options) {
    const db = new Database(url, 2, { efSearch: DEFAULT_HNSW.ef }, () => {});
    try {
      await readSchema(db);
      return new PostgresReviewQueue(db, options?.limit);
    } catch (err) {
      await db.end();
      throw err;
    }
  },
};
