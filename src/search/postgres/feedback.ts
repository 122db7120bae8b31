import type { Pair } from '../../data/pairs.js';
import type { Database } from './connection.js';

/** Every verdict, oldest first, as training pairs. */
export async function readFeedbackPairs(db: Database): Promise<Pair[]> {
  const rows = await db.read<{ q1: string; q2: string; label: boolean }>('SELECT a_text AS q1, b_text AS q2, is_duplicate AS label FROM doppel_feedback ORDER BY id');
  return rows.map((r) => ({ q1: r.q1, q2: r.q2, label: r.label ? 1 : 0 }));
}
