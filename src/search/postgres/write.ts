import { DoppelError } from '../../errors.js';
import type pg from 'pg';
import type { NewFeedback, NewQuestion, StoredQuestion, UpsertPlan } from '../backend.js';
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
type Run = <R extends pg.QueryResultRow>(sql: string, params: unknown[]) => Promise<R[]>;

export async function insertQuestions(db: Database, rows: QuestionRecord[]): Promise<StoredQuestion[]> {
  return insertWith((sql, params) => db.query(sql, params), rows);
}

async function insertWith(run: Run, rows: QuestionRecord[]): Promise<StoredQuestion[]> {
  if (rows.length === 0) return [];
  try {
    const inserted = await run<QuestionRow>(
      `INSERT INTO doppel_questions (id, text, category, url, metadata, model_id, embedding, created_at, deleted)
       SELECT id, text, category, url, metadata::json, model_id, embedding, coalesce(created_at, now()), deleted
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::vector[], $8::timestamptz[], $9::boolean[])
         AS r(id, text, category, url, metadata, model_id, embedding, created_at, deleted)
       RETURNING ${QUESTION_COLUMNS}`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.text),
        rows.map((r) => r.category ?? null),
        rows.map((r) => r.url ?? null),
        rows.map((r) => (r.metadata ? JSON.stringify(r.metadata) : null)),
        rows.map((r) => r.modelId),
        rows.map((r) => toVectorText(r.vector)),
        rows.map((r) => r.createdAt ?? null),
        rows.map((r) => Boolean(r.deleted)),
      ],
    );
    const byId = new Map(inserted.map((r) => [r.id, toQuestion(r)]));
    return rows.map((r) => byId.get(r.id)!);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; detail?: string } }).cause ?? (err as { code?: string; detail?: string });
    if (cause?.code === '23505') {
      const id = /\(id\)=\((.*)\) already exists/.exec(cause.detail ?? '')?.[1];
      throw new DoppelError('CONFLICT', id ? `a question with id '${id}' already exists` : 'a question with one of these ids already exists');
    }
    throw err;
  }
}

/**
 * An upsert plan in one transaction (see IndexCore.writePlan). A replaced question is updated in
 * place, text and vector together: the database's own indexes follow. A question removed since
 * the plan was made fails the whole write (NOT_FOUND), as a concurrent insert of an id does (CONFLICT).
 */
export async function writePlan(db: Database, plan: UpsertPlan, vectors: Float32Array, dim: number, modelId: string): Promise<StoredQuestion[]> {
  const rows = plan.create.map((q, i) => ({ ...q, vector: vectors.subarray(i * dim, (i + 1) * dim), modelId }));
  // New questions alone are one statement, all or nothing by itself: no transaction round trips.
  if (plan.replace.length === 0 && plan.update.length === 0) return insertQuestions(db, rows);
  return db.transaction(async (client) => {
    const run: Run = async (sql, params) => (await client.query(sql, params)).rows;
    const created = await insertWith(run, rows);
    const change = async (q: NewQuestion, vector?: Float32Array): Promise<StoredQuestion> => {
      const [row] = vector
        ? await run<QuestionRow>(
            // A new text's staged vector (a model being activated, or the previous model's) is of the old text: dropped, to be staged again.
            `UPDATE doppel_questions SET text = $2, category = $3, url = $4, metadata = $5::json, embedding = $6::vector, model_id = $7, embedding_next = NULL, next_model_id = NULL WHERE id = $1 AND NOT deleted RETURNING ${QUESTION_COLUMNS}`,
            [q.id, q.text, q.category ?? null, q.url ?? null, q.metadata ? JSON.stringify(q.metadata) : null, toVectorText(vector), modelId],
          )
        : await run<QuestionRow>(`UPDATE doppel_questions SET category = $2, url = $3, metadata = $4::json WHERE id = $1 AND NOT deleted RETURNING ${QUESTION_COLUMNS}`, [
            q.id,
            q.category ?? null,
            q.url ?? null,
            q.metadata ? JSON.stringify(q.metadata) : null,
          ]);
      if (!row) throw new DoppelError('NOT_FOUND', `no question with id '${q.id}'`);
      return toQuestion(row);
    };
    const replaced: StoredQuestion[] = [];
    for (const [i, { question }] of plan.replace.entries()) {
      const at = plan.create.length + i;
      replaced.push(await change(question, vectors.subarray(at * dim, (at + 1) * dim)));
    }
    const updated: StoredQuestion[] = [];
    for (const { question } of plan.update) updated.push(await change(question));
    return [...created, ...replaced, ...updated];
  });
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
