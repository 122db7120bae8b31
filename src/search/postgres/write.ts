import { DoppelError } from '../../errors.js';
import type { NewFeedback, NewQuestion, StoredQuestion } from '../backend.js';
import type { Database } from './connection.js';
import { QUESTION_COLUMNS, type QuestionRow, toQuestion, toVectorText } from './rows.js';

/** A question as it is copied between stores: with its vector, model, time and deletion. */
export interface QuestionRecord extends NewQuestion {
  vector: ArrayLike<number>;
  modelId: string;
  createdAt?: string;
  deleted?: boolean;
}

/**
 * Inserts questions in one statement, so all or none land. A concurrent insert of the same id
 * (another replica) fails on the unique index: CONFLICT, and nothing of this batch is stored.
 */
export async function insertQuestions(db: Database, rows: QuestionRecord[]): Promise<StoredQuestion[]> {
  try {
    const inserted = await db.query<QuestionRow>(
      `INSERT INTO doppel_questions (id, text, category, model_id, embedding, created_at, deleted)
       SELECT id, text, category, model_id, embedding, coalesce(created_at, now()), deleted
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::vector[], $6::timestamptz[], $7::boolean[])
         AS r(id, text, category, model_id, embedding, created_at, deleted)
       RETURNING ${QUESTION_COLUMNS}`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.text),
        rows.map((r) => r.category ?? null),
        rows.map((r) => r.modelId),
        rows.map((r) => toVectorText(r.vector)),
        rows.map((r) => r.createdAt ?? null),
        rows.map((r) => Boolean(r.deleted)),
      ],
    );
    const byId = new Map(inserted.map((r) => [r.id, toQuestion(r)]));
    return rows.map((r) => byId.get(r.id)!);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; detail?: string } }).cause;
    if (cause?.code === '23505') {
      const id = /\(id\)=\((.*)\) already exists/.exec(cause.detail ?? '')?.[1];
      throw new DoppelError('CONFLICT', id ? `a question with id '${id}' already exists` : 'a question with one of these ids already exists');
    }
    throw err;
  }
}

/** Marks a live question deleted (its id stays taken); NOT_FOUND when there is none. */
export async function removeQuestion(db: Database, id: string): Promise<StoredQuestion> {
  const [row] = await db.query<QuestionRow>(`UPDATE doppel_questions SET deleted = true WHERE id = $1 AND NOT deleted RETURNING ${QUESTION_COLUMNS}`, [id]);
  if (!row) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
  return toQuestion(row);
}

export async function insertFeedback(db: Database, f: NewFeedback): Promise<number> {
  const [row] = await db.query<{ id: string }>('INSERT INTO doppel_feedback (a_text, b_text, a_id, b_id, is_duplicate) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
    f.a,
    f.b,
    f.aId ?? null,
    f.bId ?? null,
    f.isDuplicate,
  ]);
  return Number(row.id);
}
