import { existsSync } from 'node:fs';
import { DoppelError } from '../../errors.js';
import type { StoreBackend, TransferEnd } from '../backend.js';
import { DirectoryKeyStore } from './api-keys.js';
import { DirectoryIndex } from './directory-index.js';
import { DirectoryReviewQueue } from './review-queue.js';
import { databasePath } from './paths.js';
import { QuestionStore, StoreTransfer } from './store.js';

/** Opens an existing store's SQLite file without the writer's lease: a server may hold it. */
function openExisting(dir: string, flag: string): QuestionStore {
  if (!existsSync(databasePath(dir))) throw new DoppelError('INVALID_INPUT', `${flag}: no Doppel store at ${dir}`);
  return new QuestionStore(dir, { readonly: true });
}

/** A directory: SQLite for questions and feedback, an hnswlib graph file beside it. */
export const directoryBackend: StoreBackend = {
  name: 'directory',
  readReplicas: false,
  describe: (dir) => dir,
  open: (dir, options) => DirectoryIndex.open(dir, options),

  async readFeedback(dir) {
    const store = openExisting(dir, '--feedback');
    try {
      return store.feedbackPairs();
    } finally {
      store.close();
    }
  },

  async openTransfer(dir, _model, role): Promise<TransferEnd> {
    const store = role === 'source' ? openExisting(dir, '--from') : new QuestionStore(dir, { readonly: false });
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
  },

  async recordedModel(dir) {
    if (!existsSync(databasePath(dir))) return undefined;
    const store = new QuestionStore(dir, { readonly: true });
    try {
      const id = store.meta('model_id');
      return id ? { id, dir: store.meta('model_dir') ?? null } : undefined;
    } finally {
      store.close();
    }
  },

  async openKeys(dir, options) {
    if (!existsSync(databasePath(dir))) throw new DoppelError('INVALID_INPUT', `no Doppel store at ${dir}`);
    return new DirectoryKeyStore(databasePath(dir), options);
  },

  async openReview(dir, options) {
    if (!existsSync(databasePath(dir))) throw new DoppelError('INVALID_INPUT', `no Doppel store at ${dir}`);
    return new DirectoryReviewQueue(databasePath(dir), options?.limit);
  },
};
