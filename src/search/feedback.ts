import { existsSync } from 'node:fs';
import type { Pair } from '../data/pairs.js';
import { DoppelError } from '../errors.js';
import { databasePath } from './paths.js';
import { QuestionStore } from './store.js';

/** Moderators' verdicts stored by POST /v1/feedback, as training pairs (read-only: a server may be writing). */
export function readFeedbackPairs(storeDir: string): Pair[] {
  if (!existsSync(databasePath(storeDir))) throw new DoppelError('INVALID_INPUT', `--feedback: no Doppel store at ${storeDir}`);
  const store = new QuestionStore(storeDir, { readonly: true });
  try {
    return store.feedbackPairs();
  } finally {
    store.close();
  }
}
