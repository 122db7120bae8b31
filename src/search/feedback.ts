import { existsSync } from 'node:fs';
import type { Pair } from '../data/pairs.js';
import { DoppelError } from '../errors.js';
import { databasePath } from './paths.js';
import { Database, isPostgresUrl } from './postgres/connection.js';
import { readFeedbackPairs as readPostgresFeedback } from './postgres/feedback.js';
import { QuestionStore } from './store.js';

/** Moderators' verdicts stored by POST /v1/feedback, as training pairs (read-only: a server may be writing). */
export async function readFeedbackPairs(location: string): Promise<Pair[]> {
  if (isPostgresUrl(location)) {
    const db = new Database(location, 1, { efSearch: 40 }, () => {});
    try {
      return await readPostgresFeedback(db);
    } finally {
      await db.end();
    }
  }
  if (!existsSync(databasePath(location))) throw new DoppelError('INVALID_INPUT', `--feedback: no Doppel store at ${location}`);
  const store = new QuestionStore(location, { readonly: true });
  try {
    return store.feedbackPairs();
  } finally {
    store.close();
  }
}
