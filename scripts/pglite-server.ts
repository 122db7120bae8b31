import { PGlite } from '@electric-sql/pglite';
import { pg_textsearch } from '@electric-sql/pglite-pg_textsearch';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PostgreSQL for tests and benchmarks: PGlite (PostgreSQL 18 in WebAssembly) with pgvector and
 * pg_textsearch, served over the wire protocol on 127.0.0.1 (a free port) by pglite-socket, so
 * Doppel talks to it through `pg` exactly as to a server. pglite-socket runs one statement at a time and keeps a
 * transaction's statements together, so a pool of several connections is safe.
 */
export interface PgliteServer {
  url: string;
  db: PGlite;
  stop(): Promise<void>;
}

export async function startPglite(options: { textsearch?: boolean } = {}): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: options.textsearch === false ? { vector } : { vector, pg_textsearch } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
  await server.start();
  return {
    url: `postgres://postgres:postgres@${server.getServerConn()}/postgres`,
    db,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

/** Drops every Doppel table: the next open creates a fresh store. */
export async function emptyStore(db: PGlite): Promise<void> {
  await db.exec('DROP TABLE IF EXISTS doppel_questions, doppel_feedback, doppel_api_keys, doppel_review, doppel_meta CASCADE');
}
