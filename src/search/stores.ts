import type { Pair } from '../data/pairs.js';
import type { DuplicateIndex as Index, OpenOptions, StoreBackend } from './backend.js';
import { directoryBackend } from './directory/backend.js';
import { isPostgresUrl } from './postgres/connection.js';
import { postgresBackend } from './postgres/backend.js';

/**
 * The backend a `--store` location names: a `postgres://` URL is a PostgreSQL database with
 * pgvector (shared by any number of processes); anything else is a directory (SQLite + an
 * hnswlib graph, the default). The one place that tells them apart.
 */
export function resolveStore(location: string): StoreBackend {
  return isPostgresUrl(location) ? postgresBackend : directoryBackend;
}

/** Opens the store at `location` (a directory is created if missing). */
export async function openIndex(location: string, options: OpenOptions): Promise<Index> {
  return resolveStore(location).open(location, options);
}

/** Moderators' verdicts stored by POST /v1/feedback, as training pairs (read-only: a server may be writing). */
export function readFeedbackPairs(location: string): Promise<Pair[]> {
  return resolveStore(location).readFeedback(location);
}

/** A store location as messages and logs may print it (a database URL without its password). */
export function describeStore(location: string): string {
  return resolveStore(location).describe(location);
}

/** The index type, and `DuplicateIndex.open(location, options)` as the library has always offered it. */
export type DuplicateIndex = Index;
export const DuplicateIndex = { open: openIndex };
