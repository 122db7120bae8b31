import pg from 'pg';
import { DoppelError } from '../../errors.js';

/** A store location that names a PostgreSQL database rather than a directory. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/** A database URL for messages and logs: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export const DEFAULT_POOL_SIZE = 10;

/** Connections per pool: the option, else $DOPPEL_PG_POOL, else 10. */
export function poolSize(option: number | undefined): number {
  const value = option ?? (process.env.DOPPEL_PG_POOL ? Number(process.env.DOPPEL_PG_POOL) : DEFAULT_POOL_SIZE);
  if (!Number.isInteger(value) || value < 1) throw new DoppelError('INVALID_INPUT', `the PostgreSQL pool size must be a positive integer, not '${value}'`);
  return value;
}

/** Errors of the connection rather than of the statement: a read may be retried on a fresh connection. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return CONNECTION_CODES.has(e?.code ?? '') || /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e?.message ?? '');
}

/**
 * A driver error as a DoppelError that says what to do; DoppelErrors pass through. The message
 * may reach an HTTP client, so it never names the database; the server, user, port and the
 * driver's own words go into the detail, which only operators see (logs, the CLI).
 */
export function storeError(err: unknown, url: string): Error {
  if (err instanceof DoppelError) return err;
  const e = err as { code?: string; message?: string };
  const options = { cause: err, detail: `PostgreSQL at ${redactUrl(url)}: ${e.message ?? e.code ?? String(err)}` };
  if (e.code === '28P01' || e.code === '28000') return new DoppelError('STORE_ERROR', 'the database refused the credentials', options);
  if (e.code === '3D000') return new DoppelError('STORE_ERROR', 'the database does not exist (create it first: CREATE DATABASE ...)', options);
  if (isConnectionError(err)) return new DoppelError('STORE_UNAVAILABLE', 'cannot reach the database', options);
  // SQLSTATE class 22, data exception: the value sent cannot be stored (e.g. a NUL byte in text).
  if (e.code?.startsWith('22')) return new DoppelError('INVALID_INPUT', `the database cannot store this value: ${e.message}`, options);
  return new DoppelError('STORE_ERROR', 'the database failed the request', options);
}

/** Settings every connection of a pool gets: the HNSW search breadth, and iterative scans so a filter keeps recall. */
export interface SessionSettings {
  efSearch: number;
}

/**
 * A pool with Doppel's error messages: statements, reads retried on a lost connection, and
 * transactions that are all or nothing (a connection lost mid-write rolls the write back on
 * the server; it is reported, never retried, as its outcome is the server's to decide).
 */
export class Database {
  private readonly pool: pg.Pool;
  /** Connections that have had the session settings applied. */
  private readonly prepared = new WeakSet<pg.PoolClient>();

  constructor(
    readonly url: string,
    size: number,
    private readonly settings: SessionSettings,
    private readonly log: (message: string) => void,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
    // An idle connection the server drops must not end the process; the next checkout reconnects.
    this.pool.on('error', (err) => this.log(`PostgreSQL connection lost (${err.message}); reconnecting on next use`));
  }

  /** A connection with the session settings applied (once per connection). */
  private async client(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    if (!this.prepared.has(client)) {
      // A connection that drops while checked out emits 'error' on itself as well as failing its query: heard here, not left to end the process.
      client.on('error', (err) => this.log(`PostgreSQL connection lost (${err.message})`));
      try {
        await client.query(`SET hnsw.ef_search = ${Math.floor(this.settings.efSearch)}; SET hnsw.iterative_scan = relaxed_order`);
      } catch (err) {
        client.release(true);
        throw err;
      }
      this.prepared.add(client);
    }
    return client;
  }

  private async run<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    const client = await this.client();
    let broken = false;
    try {
      return (await client.query<R>(sql, params)).rows;
    } catch (err) {
      broken = isConnectionError(err);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** One statement, once. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return await this.run<R>(sql, params);
    } catch (err) {
      throw storeError(err, this.url);
    }
  }

  /** A read: retried twice on a lost connection. */
  async read<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.run<R>(sql, params);
      } catch (err) {
        if (attempt >= 2 || !isConnectionError(err)) throw storeError(err, this.url);
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
  }

  /** `work` inside BEGIN ... COMMIT on one connection; rolled back on any failure. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.client();
    } catch (err) {
      throw storeError(err, this.url);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isConnectionError(err);
      if (!broken) await client.query('ROLLBACK').catch(() => {});
      throw storeError(err, this.url);
    } finally {
      client.release(broken);
    }
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}
