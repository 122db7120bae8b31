import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { DoppelError } from '../../errors.js';
import { pidAlive, processStartTime } from '../../util/process-liveness.js';

/** Who holds a store's write lease: enough to name the owner and to tell a dead one from a live one. */
export interface WriterInfo {
  pid: number;
  host: string;
  /** The kernel's start time of the process (Linux): a recycled pid is not mistaken for the owner. */
  startTime: string | null;
  since: string;
  command: string;
  token: string;
  /** The kernel boot and pid namespace of the owner (Linux): its pid means something only inside them. */
  bootId: string | null;
  pidNamespace: string | null;
  /** When the owner last said it is alive; what decides for an owner whose pid cannot be checked from here. */
  heartbeat: string;
}

const KEY = 'writer';
const HEARTBEAT_MS = 10_000;
/** An owner that cannot be checked from here (another host or container) is dead after this silence. */
export const STALE_AFTER_MS = 60_000;
/** Leases held by stores open in this process, so a same-pid lease left by a closed handle is stale. */
const heldHere = new Set<string>();


const readOr = (read: () => string): string | null => {
  try {
    return read().trim();
  } catch {
    return null;
  }
};
const BOOT_ID = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
const PID_NAMESPACE = readOr(() => readlinkSync('/proc/self/ns/pid'));

function isAlive(owner: WriterInfo): boolean {
  // A lease written before these were recorded counts as from here.
  const same = (theirs: string | null | undefined, ours: string | null) => theirs === undefined || theirs === ours;
  const checkable = owner.host === hostname() && same(owner.bootId, BOOT_ID) && same(owner.pidNamespace, PID_NAMESPACE);
  if (!checkable) return Date.now() - Date.parse(owner.heartbeat ?? owner.since) < STALE_AFTER_MS;
  if (owner.pid === process.pid) return heldHere.has(owner.token);
  return pidAlive(owner.pid, owner.startTime);
}

export function describeWriter(o: WriterInfo): string {
  return `pid ${o.pid} on ${o.host} (${o.command}), writing since ${o.since}`;
}

/** The lease row as stored; a row that does not parse is treated as no lease at all. */
function readOwner(value: string | undefined): WriterInfo | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as WriterInfo;
  } catch {
    return undefined;
  }
}

/**
 * One writer per store, many readers. The lease is a row in the store's own meta table, taken in
 * an IMMEDIATE transaction, so two processes racing for it are serialised by SQLite itself. A
 * lease whose process has died (a crash, SIGKILL) is taken over: on the same host, boot and pid
 * namespace the pid and its start time tell; elsewhere (another container or host) a heartbeat
 * older than STALE_AFTER_MS does. A live lease is refused with a message naming its owner.
 */
export class WriterLease {
  private readonly timer: NodeJS.Timeout;
  /** Set when the heartbeat finds the lease in another's hands: writes must stop. */
  lost = false;

  private constructor(
    private readonly db: Database.Database,
    readonly info: WriterInfo,
  ) {
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private beat(): void {
    if (!this.db.open) return;
    try {
      const r = this.db
        .prepare("UPDATE meta SET value = json_set(value, '$.heartbeat', ?) WHERE key = ? AND json_extract(value, '$.token') = ?")
        .run(new Date().toISOString(), KEY, this.info.token);
      if (r.changes === 0) this.lost = true;
    } catch {
      // busy for longer than the timeout: the next beat tries again, well inside STALE_AFTER_MS
    }
  }

  static acquire(db: Database.Database, dir: string): WriterLease {
    const info: WriterInfo = {
      pid: process.pid,
      host: hostname(),
      startTime: processStartTime(process.pid),
      since: new Date().toISOString(),
      command: [basename(process.argv[1] ?? 'node').replace(/^main\.js$/, 'doppel'), ...process.argv.slice(2)].join(' ').slice(0, 200),
      token: randomUUID(),
      bootId: BOOT_ID,
      pidNamespace: PID_NAMESPACE,
      heartbeat: new Date().toISOString(),
    };
    db.transaction(() => {
      const row = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(KEY);
      const owner = readOwner(row?.value);
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
    clearInterval(this.timer);
    heldHere.delete(this.info.token);
    if (!this.db.open) return;
    this.db.prepare("DELETE FROM meta WHERE key = ? AND json_extract(value, '$.token') = ?").run(KEY, this.info.token);
  }
}
