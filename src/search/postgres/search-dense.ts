import type { Model } from '../../model/load.js';
import type { DenseCandidate } from '../index-core.js';
import type { Database } from './connection.js';
import { fromVectorText, QUESTION_COLUMNS, type QuestionRow, toQuestion, toVectorText } from './rows.js';
import { DISTANCE, type StoreMeta } from './schema.js';

/**
 * The k nearest live questions by the model's energy: the HNSW index orders by pgvector's
 * distance for the energy (iterative scans keep a category filter's recall), and the energies
 * are computed here from the returned vectors with the model's own code, so they are the same
 * numbers the directory store reports. Relaxed-order scans are re-sorted by that energy.
 */
export async function searchDense(
  db: Database,
  meta: StoreMeta,
  model: Model,
  query: Float32Array,
  k: number,
  category: string | undefined,
  excluded: Set<number>,
): Promise<DenseCandidate[]> {
  const params: unknown[] = [toVectorText(query), k];
  const filters = ['NOT deleted'];
  if (category !== undefined) filters.push(`category = $${params.push(category)}`);
  if (excluded.size > 0) filters.push(`label <> ALL($${params.push([...excluded])}::bigint[])`);
  const rows = await db.read<QuestionRow & { v: string }>(
    `SELECT ${QUESTION_COLUMNS}, embedding::text AS v FROM doppel_questions
     WHERE ${filters.join(' AND ')} ORDER BY embedding ${DISTANCE[meta.energy].operator} $1::vector LIMIT $2`,
    params,
  );
  return rows
    .map((r) => {
      const vector = fromVectorText(r.v);
      return { label: Number(r.label), energy: model.energy.vectors(query, vector), question: toQuestion(r), vector };
    })
    .sort((a, b) => a.energy - b.energy || a.label - b.label);
}
