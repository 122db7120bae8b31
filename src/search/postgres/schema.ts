import type pg from 'pg';
import { DoppelError } from '../../errors.js';
import type { EnergyName } from '../../encoder/config.js';
import type { HnswParams } from '../backend.js';
import { type Database, redactUrl } from './connection.js';

/** The schema this version of Doppel writes and reads; a store with a newer one is refused. */
export const SCHEMA_VERSION = 3;
export const MIN_PGVECTOR = [0, 8];

export type LexicalEngine = 'pg_textsearch' | 'tsvector';

/** What a store was created with (in doppel_meta): every replica reads the same. */
export interface StoreMeta {
  schemaVersion: number;
  modelId: string;
  dim: number;
  energy: EnergyName;
  lexical: LexicalEngine;
  m: number;
  efConstruction: number;
}

/** pgvector's operator and HNSW operator class for each energy: all three are exact in pgvector (L1 since 0.7). */
export const DISTANCE: Record<EnergyName, { operator: string; opclass: string; space: 'cosine' | 'l2' | 'l1' }> = {
  cosine: { operator: '<=>', opclass: 'vector_cosine_ops', space: 'cosine' },
  euclidean: { operator: '<->', opclass: 'vector_l2_ops', space: 'l2' },
  manhattan: { operator: '<+>', opclass: 'vector_l1_ops', space: 'l1' },
};

const META_TABLE = 'CREATE TABLE IF NOT EXISTS doppel_meta (key text PRIMARY KEY, value text NOT NULL)';

/** Version 1: questions with their embedding, feedback, an HNSW index and a lexical index. */
function version1(meta: StoreMeta): string[] {
  const { opclass } = DISTANCE[meta.energy];
  const lexical =
    meta.lexical === 'pg_textsearch'
      ? ["CREATE INDEX doppel_questions_bm25 ON doppel_questions USING bm25 (text) WITH (text_config = 'english')"]
      : [
          "ALTER TABLE doppel_questions ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
          'CREATE INDEX doppel_questions_tsv ON doppel_questions USING gin (tsv)',
        ];
  return [
    `CREATE TABLE doppel_questions (
      label bigserial PRIMARY KEY,
      id text NOT NULL UNIQUE,
      text text NOT NULL,
      category text,
      created_at timestamptz NOT NULL DEFAULT now(),
      deleted boolean NOT NULL DEFAULT false,
      model_id text NOT NULL,
      embedding vector(${meta.dim}) NOT NULL
    )`,
    'CREATE INDEX doppel_questions_category ON doppel_questions (category) WHERE NOT deleted',
    `CREATE INDEX doppel_questions_hnsw ON doppel_questions USING hnsw (embedding ${opclass}) WITH (m = ${meta.m}, ef_construction = ${meta.efConstruction})`,
    ...lexical,
    `CREATE TABLE doppel_feedback (
      id bigserial PRIMARY KEY,
      a_text text NOT NULL,
      b_text text NOT NULL,
      a_id text,
      b_id text,
      is_duplicate boolean NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

/** Version 2: a question's url and metadata, pages in id order (byte order, as SQLite), and API keys. */
const version2 = (): string[] => [
  // json, not jsonb: metadata comes back as it was sent (jsonb reorders keys).
  'ALTER TABLE doppel_questions ADD COLUMN url text, ADD COLUMN metadata json',
  'CREATE INDEX doppel_questions_id_order ON doppel_questions (id COLLATE "C") WHERE NOT deleted',
  `CREATE TABLE doppel_api_keys (
    id text PRIMARY KEY,
    name text NOT NULL,
    scope text NOT NULL,
    hash text NOT NULL UNIQUE,
    origin text,
    rate double precision,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
  )`,
];

/**
 * Version 3: the review queue, who decided a feedback pair, and the column of the vectors of
 * another model (activation.ts: its dimension and index are set when an activation starts).
 */
const version3 = (): string[] => [
  'ALTER TABLE doppel_feedback ADD COLUMN reviewer text',
  'ALTER TABLE doppel_questions ADD COLUMN embedding_next vector, ADD COLUMN next_model_id text',
  `CREATE TABLE doppel_review (
    id bigserial PRIMARY KEY,
    fold_key text NOT NULL UNIQUE,
    a_id text,
    a_text text NOT NULL,
    b_id text,
    b_text text NOT NULL,
    probability double precision NOT NULL,
    threshold double precision NOT NULL,
    priority double precision NOT NULL,
    copies integer NOT NULL DEFAULT 1,
    status text NOT NULL DEFAULT 'pending',
    reviewer text,
    decided_at timestamptz,
    feedback_id bigint,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  "CREATE INDEX doppel_review_pending ON doppel_review (priority, id) WHERE status = 'pending'",
];

/** Migrations by the version they lead to; each runs once, in the transaction that records it. */
const MIGRATIONS: Record<number, (meta: StoreMeta) => string[]> = { 1: version1, 2: version2, 3: version3 };

type Rows = <R extends pg.QueryResultRow>(sql: string) => Promise<R[]>;

/** One statement that sets meta keys (inserted or replaced), with its parameters. */
export const metaUpsert = (pairs: [string, string | number][]) => ({
  sql: 'INSERT INTO doppel_meta (key, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  params: [pairs.map((p) => p[0]), pairs.map((p) => String(p[1]))],
});

export async function readMeta(rows: Rows): Promise<Map<string, string>> {
  const [exists] = await rows<{ t: string | null }>("SELECT to_regclass('doppel_meta')::text AS t");
  if (!exists?.t) return new Map();
  return new Map((await rows<{ key: string; value: string }>('SELECT key, value FROM doppel_meta')).map((r) => [r.key, r.value]));
}

function parseMeta(m: Map<string, string>): StoreMeta {
  return {
    schemaVersion: Number(m.get('schema_version') ?? 0),
    modelId: m.get('model_id') ?? '',
    dim: Number(m.get('dim')),
    energy: m.get('energy') as EnergyName,
    lexical: m.get('lexical') as LexicalEngine,
    m: Number(m.get('hnsw_m')),
    efConstruction: Number(m.get('hnsw_ef_construction')),
  };
}

function refuseNewer(version: number, where: string): void {
  if (version > SCHEMA_VERSION) {
    throw new DoppelError('STORE_ERROR', `the store at ${where} has schema version ${version}, newer than this Doppel knows (${SCHEMA_VERSION}): upgrade Doppel to use it`);
  }
}

/** Installs pgvector (required, >= 0.8 for iterative scans) and pg_textsearch (optional). */
async function installExtensions(client: pg.PoolClient): Promise<LexicalEngine> {
  try {
    await client.query('SAVEPOINT ext');
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (err) {
    throw new DoppelError('STORE_ERROR', `install pgvector >= ${MIN_PGVECTOR.join('.')} on the server: CREATE EXTENSION vector failed (${(err as Error).message})`, { cause: err });
  }
  const { rows } = await client.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'");
  const [major, minor] = rows[0].v.split('.').map(Number);
  if (major < MIN_PGVECTOR[0] || (major === MIN_PGVECTOR[0] && minor < MIN_PGVECTOR[1])) {
    throw new DoppelError('STORE_ERROR', `install pgvector >= ${MIN_PGVECTOR.join('.')} on the server: it has ${rows[0].v} (ALTER EXTENSION vector UPDATE)`);
  }
  try {
    await client.query('SAVEPOINT ext');
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_textsearch');
    return 'pg_textsearch';
  } catch {
    // Not on this server: PostgreSQL's own full-text search ranks instead (docs/operations.md).
    await client.query('ROLLBACK TO SAVEPOINT ext');
    return 'tsvector';
  }
}

/**
 * Creates or upgrades the schema for a writer, under a transaction-scoped advisory lock so that
 * replicas starting together migrate once. A new store takes the model's id, dimension and energy.
 */
export async function migrate(db: Database, wanted: { modelId: string; dim: number; energy: EnergyName; hnsw: HnswParams }): Promise<StoreMeta> {
  return db.transaction(async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('doppel_schema'))");
    await client.query(META_TABLE);
    let current = parseMeta(await readMeta(async (sql) => (await client.query(sql)).rows));
    refuseNewer(current.schemaVersion, redactUrl(db.url));
    if (current.schemaVersion === SCHEMA_VERSION) return current;
    const lexical = await installExtensions(client);
    if (current.schemaVersion === 0) {
      current = { schemaVersion: 0, modelId: wanted.modelId, dim: wanted.dim, energy: wanted.energy, lexical, m: wanted.hnsw.m, efConstruction: wanted.hnsw.efConstruction };
    }
    for (let v = current.schemaVersion + 1; v <= SCHEMA_VERSION; v++) {
      for (const sql of MIGRATIONS[v](current)) await client.query(sql);
    }
    const meta: StoreMeta = { ...current, schemaVersion: SCHEMA_VERSION };
    const pairs: [string, string | number][] = [
      ['schema_version', meta.schemaVersion],
      ['model_id', meta.modelId],
      ['dim', meta.dim],
      ['energy', meta.energy],
      ['lexical', meta.lexical],
      ['hnsw_m', meta.m],
      ['hnsw_ef_construction', meta.efConstruction],
    ];
    const { sql, params } = metaUpsert(pairs);
    await client.query(sql, params);
    return meta;
  });
}

/** The schema of an existing store, for readers (which never create or migrate one). */
export async function readSchema(db: Database): Promise<StoreMeta> {
  const meta = parseMeta(await readMeta((sql) => db.read(sql)));
  if (meta.schemaVersion === 0) throw new DoppelError('STORE_ERROR', `no Doppel store at ${redactUrl(db.url)}: open it for writing once (e.g. doppel index build) to create one`);
  refuseNewer(meta.schemaVersion, redactUrl(db.url));
  if (meta.schemaVersion < SCHEMA_VERSION) throw new DoppelError('STORE_ERROR', `the store at ${redactUrl(db.url)} has schema version ${meta.schemaVersion}: open it for writing once to upgrade it to ${SCHEMA_VERSION}`);
  return meta;
}
