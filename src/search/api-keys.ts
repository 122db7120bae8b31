/**
 * API keys as a store keeps them: never the key itself, only its SHA-256, with what it may do.
 * Both backends implement ApiKeyStore; the service (service/auth.ts) makes and checks the keys.
 */

/** What a key may do, each including the one before: read (search), store questions (write), everything (admin). */
export const KEY_SCOPES = ['search', 'write', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  scope: KeyScope;
  /** The only browser origin it may be used from (a search key in a forum's page), or null. */
  origin: string | null;
  /** Requests per second it may make, or null for the server's per-address limit alone. */
  rate: number | null;
  createdAt: string;
  revokedAt: string | null;
}

export type StoredApiKey = ApiKeyRecord & { hash: string };

export interface NewApiKey {
  id: string;
  /** SHA-256 of the key, hex. */
  hash: string;
  name: string;
  scope: KeyScope;
  origin?: string | null;
  rate?: number | null;
}

export interface ApiKeyStore {
  create(key: NewApiKey): Promise<ApiKeyRecord>;
  /** Every key ever made, revoked ones included, oldest first. */
  list(): Promise<ApiKeyRecord[]>;
  /** Revokes a key by id or name; NOT_FOUND when no live key has it. */
  revoke(idOrName: string): Promise<ApiKeyRecord>;
  /** The live key with this hash. */
  find(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Whether any key was ever made: from then on writes need one. */
  any(): Promise<boolean>;
  /** Every key with its hash, for a copy of the store (`doppel index migrate`). */
  exportKeys(): Promise<StoredApiKey[]>;
  /** Adds a copy's keys with their ids, times and revocations; ids already here are skipped. How many were added. */
  importKeys(keys: StoredApiKey[]): Promise<number>;
  close(): Promise<void>;
}

/** A key as a table row: times as the driver gives them (text in SQLite, Date in PostgreSQL). */
export interface KeyRow<Time> {
  id: string;
  hash: string;
  name: string;
  scope: string;
  origin: string | null;
  rate: number | null;
  created_at: Time;
  revoked_at: Time | null;
}

export const toKeyRecord = <Time>(r: KeyRow<Time>, iso: (t: Time) => string): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  scope: r.scope as KeyScope,
  origin: r.origin,
  rate: r.rate,
  createdAt: iso(r.created_at),
  revokedAt: r.revoked_at === null ? null : iso(r.revoked_at),
});
