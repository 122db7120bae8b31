import { DirectoryIndex } from './duplicate-index.js';
import type { DuplicateIndex as Index, OpenOptions } from './index-api.js';
import { isPostgresUrl } from './postgres/connection.js';
import { PostgresIndex } from './postgres/postgres-index.js';

/**
 * Opens the store at `location`: a `postgres://` URL (a PostgreSQL database with pgvector, shared
 * by any number of processes), else a directory (created if missing; SQLite + an hnswlib graph,
 * the default).
 */
export async function openIndex(location: string, options: OpenOptions): Promise<Index> {
  return isPostgresUrl(location) ? PostgresIndex.open(location, options) : DirectoryIndex.open(location, options);
}

/** The index type, and `DuplicateIndex.open(location, options)` as the library has always offered it. */
export type DuplicateIndex = Index;
export const DuplicateIndex = { open: openIndex };
