import type { FeedbackRecord, TransferRow } from '../backend.js';
import type { Database } from './connection.js';
import { fromVectorText, QUESTION_COLUMNS, type QuestionRow, toQuestion } from './rows.js';
import { insertQuestions } from './write.js';

/** Whole rows in and out of a PostgreSQL store, for `doppel index migrate`. */
export class PostgresTransfer {
  constructor(private readonly db: Database) {}

  async count(): Promise<number> {
    return Number((await this.db.read<{ n: string }>('SELECT count(*) AS n FROM doppel_questions'))[0].n);
  }

  async rows(after: number, limit: number): Promise<{ label: number; row: TransferRow }[]> {
    const rows = await this.db.read<QuestionRow & { model_id: string; v: string }>(
      `SELECT ${QUESTION_COLUMNS}, model_id, embedding::text AS v FROM doppel_questions WHERE label > $1 ORDER BY label LIMIT $2`,
      [after, limit],
    );
    return rows.map((r) => {
      const { label, ...q } = toQuestion(r);
      return { label, row: { ...q, modelId: r.model_id, vector: fromVectorText(r.v) } };
    });
  }

  async present(ids: string[]): Promise<Set<string>> {
    return new Set((await this.db.read<{ id: string }>('SELECT id FROM doppel_questions WHERE id = ANY($1::text[])', [ids])).map((r) => r.id));
  }

  async write(rows: TransferRow[]): Promise<void> {
    await insertQuestions(this.db, rows);
  }

  async feedback(after: number): Promise<FeedbackRecord[]> {
    const rows = await this.db.read<{ id: string; a_text: string; b_text: string; a_id: string | null; b_id: string | null; is_duplicate: boolean; created_at: Date }>(
      'SELECT * FROM doppel_feedback WHERE id > $1 ORDER BY id',
      [after],
    );
    return rows.map((r) => ({ id: Number(r.id), a: r.a_text, b: r.b_text, aId: r.a_id, bId: r.b_id, isDuplicate: r.is_duplicate, createdAt: r.created_at.toISOString() }));
  }

  async meta(key: string): Promise<string | undefined> {
    return (await this.db.read<{ value: string }>('SELECT value FROM doppel_meta WHERE key = $1', [key]))[0]?.value;
  }

  /** Verdicts and the marker that says how far the copy got, in one transaction. */
  async writeFeedback(rows: FeedbackRecord[], marker: { key: string; value: string }): Promise<void> {
    await this.db.transaction(async (client) => {
      for (const f of rows) {
        await client.query('INSERT INTO doppel_feedback (a_text, b_text, a_id, b_id, is_duplicate, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [f.a, f.b, f.aId, f.bId, f.isDuplicate, f.createdAt]);
      }
      await client.query('INSERT INTO doppel_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [marker.key, marker.value]);
    });
  }
}
