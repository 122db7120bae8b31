import { queryWords } from '../../text/bm25-query.js';
import type { LexicalCandidate } from '../index-core.js';
import type { SearchOptions } from '../backend.js';
import type { Database } from './connection.js';
import { fromVectorText, QUESTION_COLUMNS, type QuestionRow, toQuestion } from './rows.js';
import type { LexicalEngine } from './schema.js';

/**
 * The k best live questions for the words of `text`, best first, with their vectors (for their
 * energies) read in the same statement. pg_textsearch ranks by BM25 (its score is negated BM25,
 * so it is flipped back); without it PostgreSQL's ts_rank_cd (cover density, not BM25) ranks,
 * which also matches a half-typed last word as a prefix (pg_textsearch has no prefix queries:
 * that word must be whole there).
 */
export async function searchLexical(db: Database, engine: LexicalEngine, text: string, k: number, options: SearchOptions, excluded: Set<number>): Promise<LexicalCandidate[]> {
  const { words, prefix } = queryWords(text, { prefix: options.prefix });
  const params: unknown[] = [k];
  const filters = ['NOT deleted'];
  if (options.category !== undefined) filters.push(`category = $${params.push(options.category)}`);
  if (excluded.size > 0) filters.push(`label <> ALL($${params.push([...excluded])}::bigint[])`);
  let sql: string;
  if (engine === 'pg_textsearch') {
    const all = prefix ? [...words, prefix] : words;
    if (all.length === 0) return [];
    const q = `$${params.push(all.join(' '))}`;
    sql = `SELECT * FROM (
      SELECT ${QUESTION_COLUMNS}, embedding::text AS v, -(text <@> to_bm25query(${q}, 'doppel_questions_bm25')) AS score
      FROM doppel_questions WHERE ${filters.join(' AND ')}
      ORDER BY text <@> to_bm25query(${q}, 'doppel_questions_bm25') LIMIT $1) ranked WHERE score > 0`;
  } else {
    const terms = [...words, ...(prefix ? [`${prefix}:*`] : [])];
    if (terms.length === 0) return [];
    const q = `to_tsquery('english', $${params.push(terms.join(' | '))})`;
    sql = `SELECT ${QUESTION_COLUMNS}, embedding::text AS v, ts_rank_cd(tsv, ${q}) AS score
      FROM doppel_questions WHERE ${filters.join(' AND ')} AND tsv @@ ${q} ORDER BY score DESC, label LIMIT $1`;
  }
  const rows = await db.read<QuestionRow & { v: string; score: number }>(sql, params);
  return rows.map((r) => ({ label: Number(r.label), bm25: Number(r.score), question: toQuestion(r), vector: fromVectorText(r.v) }));
}
