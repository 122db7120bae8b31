import type { EnergyName } from '../../encoder/config.js';
import { DoppelError } from '../../errors.js';
import type { StoreModel, StoreModels } from '../backend.js';
import type { Database } from './connection.js';
import { toVectorText } from './rows.js';
import { DISTANCE, metaUpsert, readMeta, type StoreMeta } from './schema.js';

/**
 * Model activation in PostgreSQL: the next model's vectors go into a column of their own
 * (embedding_next, with its own HNSW index, both kept up by the database as rows are staged), so
 * that the switch is a rename of columns and indexes in one short transaction. Afterwards the
 * replaced vectors sit in embedding_next, for a rollback.
 */

/** What the next model's column must be, to be kept. */
interface NextShape {
  modelId: string;
  dim: number;
  energy: EnergyName;
  m: number;
  efConstruction: number;
}

const FORGET_ACTIVATION = "DELETE FROM doppel_meta WHERE key IN ('activation_model_id', 'activation_model_dir')";

export async function storeModels(db: Database, current: string): Promise<StoreModels> {
  const m = await readMeta((sql) => db.query(sql));
  const model = (id: string | undefined, dir: string | undefined): StoreModel | undefined => (id ? { id, dir: dir || null } : undefined);
  return { current: { id: current, dir: m.get('model_dir') || null }, previous: model(m.get('previous_model_id'), m.get('previous_model_dir')), activating: model(m.get('activation_model_id'), m.get('activation_model_dir')) };
}

/** Makes (or keeps) the next model's column and index, and records the activation. */
export async function prepareNext(db: Database, next: NextShape, dir: string): Promise<void> {
  await db.transaction(async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('doppel_activation'))");
    const m = await readMeta(async (sql) => (await client.query(sql)).rows);
    const { rows } = await client.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'doppel_questions' AND column_name = 'embedding_next'");
    const fits = rows.length > 0 && m.get('next_dim') === String(next.dim) && m.get('next_energy') === next.energy;
    if (!fits) {
      await client.query('ALTER TABLE doppel_questions DROP COLUMN IF EXISTS embedding_next, DROP COLUMN IF EXISTS next_model_id');
      await client.query(`ALTER TABLE doppel_questions ADD COLUMN embedding_next vector(${next.dim}), ADD COLUMN next_model_id text`);
      await client.query(`CREATE INDEX doppel_questions_hnsw_next ON doppel_questions USING hnsw (embedding_next ${DISTANCE[next.energy].opclass}) WITH (m = ${next.m}, ef_construction = ${next.efConstruction})`);
    }
    const { sql, params } = metaUpsert([
      ['next_dim', next.dim],
      ['next_energy', next.energy],
      ['activation_model_id', next.modelId],
      ['activation_model_dir', dir],
    ]);
    await client.query(sql, params);
  });
}

/**
 * Up to `limit` questions after label `after` (removed ones too: every row keeps a vector, as
 * migrate copies it) without a vector of `modelId` in the next column, in label order.
 */
export function unstaged(db: Database, modelId: string, after: string, limit: number): Promise<{ label: string; text: string }[]> {
  return db.query('SELECT label, text FROM doppel_questions WHERE label > $2::bigint AND next_model_id IS DISTINCT FROM $1 ORDER BY label LIMIT $3', [modelId, after, limit]);
}

export async function stageRows(db: Database, labels: string[], vectors: Float32Array, dim: number, modelId: string): Promise<void> {
  const texts = labels.map((_, i) => toVectorText(vectors.subarray(i * dim, (i + 1) * dim)));
  await db.query(
    'UPDATE doppel_questions q SET embedding_next = r.v, next_model_id = $3 FROM unnest($1::bigint[], $2::vector[]) AS r(label, v) WHERE q.label = r.label',
    [labels, texts, modelId],
  );
}

/**
 * The switch, in one transaction: the two vector columns, their model ids and their HNSW indexes
 * trade names, and the meta records the new model (the replaced one as previous). Refused if a
 * question is still without a staged vector (another replica wrote one since): stage again.
 */
export async function swapColumns(db: Database, current: StoreMeta, next: { modelId: string; dim: number; energy: EnergyName; dir: string }): Promise<void> {
  await db.transaction(async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('doppel_activation'))");
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM doppel_questions WHERE next_model_id IS DISTINCT FROM $1', [next.modelId]);
    if (Number(rows[0].n) > 0) throw new DoppelError('CONFLICT', `${rows[0].n} questions were written after staging: stage again`);
    const previousDir = (await client.query<{ value: string }>("SELECT value FROM doppel_meta WHERE key = 'model_dir'")).rows[0]?.value;
    for (const sql of [
      'ALTER TABLE doppel_questions RENAME COLUMN embedding TO embedding_swap',
      'ALTER TABLE doppel_questions RENAME COLUMN embedding_next TO embedding',
      'ALTER TABLE doppel_questions RENAME COLUMN embedding_swap TO embedding_next',
      'ALTER TABLE doppel_questions RENAME COLUMN model_id TO model_id_swap',
      'ALTER TABLE doppel_questions RENAME COLUMN next_model_id TO model_id',
      'ALTER TABLE doppel_questions RENAME COLUMN model_id_swap TO next_model_id',
      'ALTER INDEX doppel_questions_hnsw RENAME TO doppel_questions_hnsw_swap',
      'ALTER INDEX doppel_questions_hnsw_next RENAME TO doppel_questions_hnsw',
      'ALTER INDEX doppel_questions_hnsw_swap RENAME TO doppel_questions_hnsw_next',
      'ALTER TABLE doppel_questions ALTER COLUMN embedding_next DROP NOT NULL, ALTER COLUMN next_model_id DROP NOT NULL',
      'ALTER TABLE doppel_questions ALTER COLUMN embedding SET NOT NULL, ALTER COLUMN model_id SET NOT NULL',
    ]) {
      await client.query(sql);
    }
    const { sql, params } = metaUpsert([
      ['model_id', next.modelId],
      ['dim', next.dim],
      ['energy', next.energy],
      ['model_dir', next.dir],
      ['previous_model_id', current.modelId],
      ['previous_model_dir', previousDir ?? ''],
      ['next_dim', current.dim],
      ['next_energy', current.energy],
    ]);
    await client.query(sql, params);
    await client.query(FORGET_ACTIVATION);
  });
}

export async function forgetActivation(db: Database): Promise<void> {
  await db.query(FORGET_ACTIVATION);
}

/** A switch to a model of the same vectors: the directory served until now becomes the previous one. */
export async function recordSameVectors(db: Database, id: string, dir: string): Promise<void> {
  await db.query(
    `WITH old AS (SELECT value FROM doppel_meta WHERE key = 'model_dir')
     INSERT INTO doppel_meta (key, value) VALUES ('model_dir', $2), ('previous_model_id', $1), ('previous_model_dir', coalesce((SELECT value FROM old), ''))
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [id, dir],
  );
  await forgetActivation(db);
}

export async function recordModelDir(db: Database, dir: string): Promise<void> {
  const { sql, params } = metaUpsert([['model_dir', dir]]);
  await db.query(sql, params);
}
