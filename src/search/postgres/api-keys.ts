import { DoppelError } from '../../errors.js';
import { type ApiKeyRecord, type ApiKeyStore, type KeyRow as StoredKeyRow, type NewApiKey, type StoredApiKey, toKeyRecord } from '../api-keys.js';
import type { Database } from './connection.js';

type KeyRow = StoredKeyRow<Date>;
const toRecord = (r: KeyRow) => toKeyRecord(r, (t) => t.toISOString());

/** The keys of a PostgreSQL store (table doppel_api_keys, schema version 2), shared by every replica. */
export class PostgresKeyStore implements ApiKeyStore {
  constructor(private readonly db: Database) {}

  async create(key: NewApiKey): Promise<ApiKeyRecord> {
    const [row] = await this.db.query<KeyRow>('INSERT INTO doppel_api_keys (id, name, scope, hash, origin, rate) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [
      key.id,
      key.name,
      key.scope,
      key.hash,
      key.origin ?? null,
      key.rate ?? null,
    ]);
    return toRecord(row);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.read<KeyRow>('SELECT * FROM doppel_api_keys ORDER BY created_at, id')).map(toRecord);
  }

  async revoke(idOrName: string): Promise<ApiKeyRecord> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<KeyRow>('SELECT * FROM doppel_api_keys WHERE (id = $1 OR name = $1) AND revoked_at IS NULL FOR UPDATE', [idOrName]);
      if (rows.length === 0) throw new DoppelError('NOT_FOUND', `no live key with id or name '${idOrName}'`);
      if (rows.length > 1) throw new DoppelError('CONFLICT', `${rows.length} live keys are named '${idOrName}': revoke one by its id`);
      const updated = await client.query<KeyRow>('UPDATE doppel_api_keys SET revoked_at = now() WHERE id = $1 RETURNING *', [rows[0].id]);
      return toRecord(updated.rows[0]);
    });
  }

  /** On the primary: a revocation must not wait for a replica to catch up. */
  async find(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.read<KeyRow>('SELECT * FROM doppel_api_keys WHERE hash = $1 AND revoked_at IS NULL', [hash]);
    return row && toRecord(row);
  }

  async any(): Promise<boolean> {
    return (await this.db.read('SELECT 1 FROM doppel_api_keys LIMIT 1')).length > 0;
  }

  async exportKeys(): Promise<StoredApiKey[]> {
    return (await this.db.read<KeyRow>('SELECT * FROM doppel_api_keys ORDER BY created_at, id')).map((r) => ({ ...toRecord(r), hash: r.hash }));
  }

  async importKeys(keys: StoredApiKey[]): Promise<number> {
    if (keys.length === 0) return 0;
    const added = await this.db.query<{ id: string }>(
      `INSERT INTO doppel_api_keys (id, name, scope, hash, origin, rate, created_at, revoked_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::timestamptz[], $8::timestamptz[])
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [keys.map((k) => k.id), keys.map((k) => k.name), keys.map((k) => k.scope), keys.map((k) => k.hash), keys.map((k) => k.origin), keys.map((k) => k.rate), keys.map((k) => k.createdAt), keys.map((k) => k.revokedAt)],
    );
    return added.length;
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
