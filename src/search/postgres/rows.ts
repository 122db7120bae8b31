import type { StoredQuestion } from '../backend.js';

/** pgvector's text form of a vector: float32 values print and parse back exactly. */
export const toVectorText = (v: ArrayLike<number>): string => `[${Array.prototype.join.call(v, ',')}]`;

export const fromVectorText = (text: string): Float32Array => Float32Array.from(text.slice(1, -1).split(','), Number);

/** The columns of a question, as every query selects them. */
export const QUESTION_COLUMNS = 'label, id, text, category, url, metadata, created_at, deleted';

export interface QuestionRow {
  label: string;
  id: string;
  text: string;
  category: string | null;
  url: string | null;
  /** json: the driver parses it. */
  metadata: StoredQuestion['metadata'];
  created_at: Date;
  deleted: boolean;
}

export const toQuestion = (r: QuestionRow): StoredQuestion => ({
  label: Number(r.label),
  id: r.id,
  text: r.text,
  category: r.category,
  url: r.url,
  metadata: r.metadata,
  createdAt: r.created_at.toISOString(),
  deleted: r.deleted,
});
