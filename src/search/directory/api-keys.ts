import Database from 'better-sqlite3';
import { DoppelError } from '../../errors.js';
import { type ApiKeyRecord, type ApiKeyStore, type KeyRow as SqliteKeyRow, type NewApiKey, type StoredApiKey, toKeyRecord } from '../api-keys.js';
import { KEYS_TABLE } from './store.js';

type KeyRow = SqliteKeyRow<string>;
const toRecord = (r: KeyRow) => toKeyRecord(r, (t) => t);

/**
 * The keys of a directory store, in its SQLite file (table api_keys). A connection of its own,
 * without the writer's lease: `doppel keys` works while a server holds the store, and a server
 * sees a revocation at its next request (one indexed read each). A store written before keys
 * existed has no table: read-only, it has no keys; opened to write, it gets the table.
 */
export class DirectoryKeyStore implements ApiKeyStore {
  private readonly db: Database.Database;
  private readonly hasTable: boolean;

  constructor(path: string, options: { readonly: boolean }) {
    try {
      this.db = new Database(path, { readonly: options.readonly, fileMustExist: true });
    } catch (err) {
      throw new DoppelError('STORE_ERROR', `cannot open the keys of ${path}: ${(err as Error).message}`);
    }
    this.db.pragma('busy_timeout = 5000');
    if (!options.readonly) this.db.exec(KEYS_TABLE);
    this.hasTable = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'").get() !== undefined;
  }

  private rows(sql: string, ...params: string[]): KeyRow[] {
    return this.hasTable ? this.db.prepare<string[], KeyRow>(sql).all(...params) : [];
  }

  async create(key: NewApiKey): Promise<ApiKeyRecord> {
    const createdAt = new Date().toISOString();
    this.db
      .prepare('INSERT INTO api_keys (id, name, scope, hash, origin, rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(key.id, key.name, key.scope, key.hash, key.origin ?? null, key.rate ?? null, createdAt);
    return { id: key.id, name: key.name, scope: key.scope, origin: key.origin ?? null, rate: key.rate ?? null, createdAt, revokedAt: null };
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.rows('SELECT * FROM api_keys ORDER BY created_at, id').map(toRecord);
  }

  async revoke(idOrName: string): Promise<ApiKeyRecord> {
    return this.db.transaction(() => {
      const rows = this.rows('SELECT * FROM api_keys WHERE (id = ? OR name = ?) AND revoked_at IS NULL', idOrName, idOrName);
      if (rows.length === 0) throw new DoppelError('NOT_FOUND', `no live key with id or name '${idOrName}'`);
      if (rows.length > 1) throw new DoppelError('CONFLICT', `${rows.length} live keys are named '${idOrName}': revoke one by its id`);
      const revokedAt = new Date().toISOString();
      this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(revokedAt, rows[0].id);
      return { ...toRecord(rows[0]), revokedAt };
    }).immediate();
  }

  async find(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = this.rows('SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL', hash);
    return row && toRecord(row);
  }

  async any(): Promise<boolean> {
    return this.rows('SELECT * FROM api_keys LIMIT 1').length > 0;
  }

  async exportKeys(): Promise<StoredApiKey[]> {
    return this.rows('SELECT * FROM api_keys ORDER BY created_at, id').map((r) => ({ ...toRecord(r), hash: r.hash }));
  }

  async importKeys(keys: StoredApiKey[]): Promise<number> {
    const insert = this.db.prepare('INSERT OR IGNORE INTO api_keys (id, name, scope, hash, origin, rate, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    return this.db.transaction(() => keys.reduce((n, k) => n + insert.run(k.id, k.name, k.scope, k.hash, k.origin, k.rate, k.createdAt, k.revokedAt).changes, 0)).immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
