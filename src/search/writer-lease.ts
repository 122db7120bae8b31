import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { DoppelError } from '../errors.js';

/** Who holds a store's write lease: enough to name the owner and to tell a dead one from a live one. */
export interface WriterInfo {
  pid: number;
  host: string;
  /** The kernel's start time of the process (Linux): a recycled pid is not mistaken for the owner. */
  startTime: string | null;
  since: string;
  command: string;
  token: string;
}

const KEY = 'writer';
/** Leases held by stores open in this process, so a same-pid lease left by a closed handle is stale. */
const heldHere = new Set<string>();

function processStartTime(pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count from its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: WriterInfo): boolean {
  if (owner.host !== hostname()) return true; // cannot be checked from here: assume it is
  if (owner.pid === process.pid) return heldHere.has(owner.token);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = processStartTime(owner.pid);
  return started === null || owner.startTime === null || started === owner.startTime;
}

export function describeWriter(o: WriterInfo): string {
  return `pid ${o.pid} on ${o.host} (${o.command}), writing since ${o.since}`;
}

/**
 * One writer per store, many readers. The lease is a row in the store's own meta table, taken in
 * an IMMEDIATE transaction, so two processes racing for it are serialised by SQLite itself. A
 * lease whose process has died (a crash, SIGKILL) is taken over; a live one is refused with a
 * message naming its owner.
 */
export class WriterLease {
  private constructor(
    private readonly db: Database.Database,
    readonly info: WriterInfo,
  ) {}

  static acquire(db: Database.Database, dir: string): WriterLease {
    const info: WriterInfo = {
      pid: process.pid,
      host: hostname(),
      startTime: processStartTime(process.pid),
      since: new Date().toISOString(),
      command: [basename(process.argv[1] ?? 'node').replace(/^main\.js$/, 'doppel'), ...process.argv.slice(2)].join(' ').slice(0, 200),
      token: randomUUID(),
    };
    db.transaction(() => {
      const row = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(KEY);
      const owner = row ? (JSON.parse(row.value) as WriterInfo) : undefined;
      if (owner && isAlive(owner)) {
        throw new DoppelError(
          'STORE_LOCKED',
          `store ${dir} is open for writing by ${describeWriter(owner)}; only one process may write a store. Stop it, or send the write to its HTTP API (read-only commands such as search work meanwhile)`,
        );
      }
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(KEY, JSON.stringify(info));
    }).immediate();
    heldHere.add(info.token);
    return new WriterLease(db, info);
  }

  /** Gives the lease up, unless another process has (wrongly) taken it over meanwhile. */
  release(): void {
    heldHere.delete(this.info.token);
    if (!this.db.open) return;
    this.db.prepare("DELETE FROM meta WHERE key = ? AND json_extract(value, '$.token') = ?").run(KEY, this.info.token);
  }
}
