import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Pair } from '../data/pairs.js';
import { DoppelError } from '../errors.js';
import { databasePath } from './paths.js';

/** Moderators' verdicts stored by POST /v1/feedback, as training pairs. */
export async function readFeedbackPairs(storeDir: string): Promise<Pair[]> {
  const file = databasePath(storeDir);
  if (!existsSync(file)) throw new DoppelError('INVALID_INPUT', `--feedback: no Doppel store at ${storeDir}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT a_text AS q1, b_text AS q2, is_duplicate AS label FROM feedback ORDER BY id').all() as Pair[];
    return rows.map((r) => ({ q1: r.q1, q2: r.q2, label: r.label ? 1 : 0 }));
  } finally {
    db.close();
  }
}
