import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, createWriteStream, fsyncSync, openSync, existsSync, lstatSync, readdirSync, realpathSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DoppelError } from '../errors.js';
import { pidAlive } from './process-liveness.js';

/**
 * Outputs that appear whole or not at all: each is written under a temporary name beside its
 * target (`<target>.tmp-<pid>-<random>`, same directory, so the same file system), flushed to disk,
 * then renamed over the target. A failure removes the temporary; so does exit and SIGINT, SIGTERM
 * or SIGHUP. What a hard kill leaves behind is removed by the next writer of the same target
 * (removeStaleTemps): temporaries are named after their process, and only dead processes' go.
 */

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** Temporaries of this process, removed if it ends before they are renamed. */
const live = new Set<string>();
/** Old directories moved aside during a swap: put back if the process ends mid-swap. */
const swapping = new Map<string, string>();
let hooked = false;

function cleanupSync(): void {
  for (const path of live) rmSync(path, { recursive: true, force: true });
  live.clear();
  for (const [old, target] of swapping) {
    try {
      if (existsSync(target)) rmSync(old, { recursive: true, force: true });
      else renameSync(old, target);
    } catch {
      // best effort while exiting
    }
  }
  swapping.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupSync();
  unhook();
  // Die of the signal as we would have without this handler, unless the program handles it itself.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  if (!hooked || live.size > 0 || swapping.size > 0) return;
  hooked = false;
  process.off('exit', cleanupSync);
  for (const s of SIGNALS) process.off(s, onSignal);
}

function track(path: string): void {
  live.add(path);
  hook();
}

function untrack(path: string): void {
  live.delete(path);
  unhook();
}

/** The path to replace: a symbolic link is followed, so the file it points to is replaced, not the link. */
export function replaceablePath(target: string): string {
  try {
    return lstatSync(target).isSymbolicLink() ? realpathSync(target) : resolve(target);
  } catch {
    return resolve(target);
  }
}

/** A fresh temporary name beside `target`. */
export function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes the temporaries of `target` that a killed process left (`<target>.tmp-<pid>-*` whose
 * process is gone), and finishes a directory swap it interrupted (`<target>.old-<pid>-*`: put back
 * when the target is missing, else removed). Best effort: returns what it removed or restored.
 */
export function removeStaleTemps(target: string): string[] {
  const dir = dirname(resolve(target));
  const base = basename(target);
  const pattern = new RegExp(`^${escapeRegExp(base)}\\.(tmp|old)-(\\d+)-[0-9a-f]+$`);
  const done: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return done;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || pidAlive(Number(m[2]))) continue;
    const path = join(dir, name);
    try {
      if (m[1] === 'old' && !existsSync(resolve(target))) renameSync(path, resolve(target));
      else rmSync(path, { recursive: true, force: true });
      done.push(path);
    } catch {
      // not ours to fix (permissions): leave it
    }
  }
  return done;
}

export interface OutputCheck {
  /** What the path is, for messages (e.g. '--out'). */
  what?: string;
  /** A file (refused when it exists, unless force) or a directory (replaced whole). */
  kind: 'file' | 'dir';
  force?: boolean;
  /** For a directory that exists: whether it may be replaced (say, it is a model directory). */
  replaceable?: (dir: string) => boolean;
  /** Why replaceable said no, for the message. */
  notReplaceable?: string;
}

/**
 * Checks, before any work, that `target` can be written: its directory exists and is writable,
 * and the target is absent or may be replaced.
 */
export function checkOutputPath(target: string, check: OutputCheck): void {
  const what = check.what ? `${check.what} ${target}` : target;
  const parent = dirname(resolve(target));
  let parentStat;
  try {
    parentStat = statSync(parent);
  } catch {
    throw new DoppelError('INVALID_INPUT', `${what}: directory ${parent} does not exist`);
  }
  if (!parentStat.isDirectory()) throw new DoppelError('INVALID_INPUT', `${what}: ${parent} is not a directory`);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch {
    throw new DoppelError('INVALID_INPUT', `${what}: cannot write to directory ${parent}`);
  }
  let stat;
  try {
    stat = statSync(target);
  } catch {
    return; // absent: fine
  }
  if (check.kind === 'file') {
    if (stat.isDirectory()) throw new DoppelError('INVALID_INPUT', `${what} is a directory; give a file name`);
    if (!check.force) throw new DoppelError('INVALID_INPUT', `${target} exists; pass --force to overwrite it`);
    return;
  }
  if (!stat.isDirectory()) throw new DoppelError('INVALID_INPUT', `${what} exists and is not a directory`);
  if (check.replaceable && readdirSync(target).length > 0 && !check.replaceable(target)) {
    throw new DoppelError('INVALID_INPUT', `${what} ${check.notReplaceable ?? 'exists and would be replaced whole'}; choose another path`);
  }
}

/** Flushes a file (or a directory's entries) to disk, synchronously; see fsyncPath. */
export function fsyncFile(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Directories cannot be opened or synced everywhere (Windows): the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function fsyncPath(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch {
    // Directories cannot be opened or synced everywhere (Windows): the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) await fsyncPath(path);
  }
  await fsyncPath(dir);
}

/** Writes a whole file: to a temporary beside it, flushed, then renamed over it. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  target = replaceablePath(target);
  const tmp = tempPathFor(target);
  track(tmp);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    untrack(tmp);
  }
  await fsyncPath(dirname(resolve(target)));
}

/** A file written as a stream, then committed (or aborted). */
export interface OutputFile {
  write(chunk: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Opens `target` for writing: atomically (AtomicFile) when it is absent or a regular file, or
 * directly when it is something else that exists (a FIFO, /dev/stdout), where a rename would
 * replace the device rather than write to it.
 */
export function openOutputFile(target: string): OutputFile {
  let special = false;
  try {
    special = !statSync(target).isFile();
  } catch {
    // absent
  }
  return special ? new DirectFile(target) : new AtomicFile(target);
}

/** Resolves when a full stream drains, or fails (the caller's check reports the error). */
function drained(stream: WriteStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
  });
}

/** Writes straight to an existing special file; nothing to rename or remove. */
class DirectFile implements OutputFile {
  private readonly stream: WriteStream;
  private error: Error | undefined;

  constructor(readonly target: string) {
    this.stream = createWriteStream(target, { flags: 'w', encoding: 'utf8' });
    this.stream.on('error', (err) => (this.error ??= err));
  }

  private check(): void {
    if (this.error) throw new DoppelError('INVALID_INPUT', `cannot write ${this.target}: ${this.error.message}`, { cause: this.error });
  }

  async write(chunk: string): Promise<void> {
    this.check();
    if (!this.stream.write(chunk)) await drained(this.stream);
    this.check();
  }

  async commit(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    this.check();
  }

  async abort(): Promise<void> {
    this.stream.destroy();
  }
}

/** A file written as a stream to a temporary beside its target; commit renames it into place. */
export class AtomicFile implements OutputFile {
  readonly target: string;
  readonly tempPath: string;
  readonly stream: WriteStream;
  private error: Error | undefined;
  private settled = false;

  constructor(target: string) {
    this.target = replaceablePath(target);
    this.tempPath = tempPathFor(this.target);
    track(this.tempPath);
    this.stream = createWriteStream(this.tempPath, { flags: 'wx', encoding: 'utf8' });
    // Never an unhandled 'error' event: the next write or the commit reports it.
    this.stream.on('error', (err) => (this.error ??= err));
  }

  /** The stream's error, as a DoppelError naming the target, if it failed. */
  check(): void {
    if (this.error) throw new DoppelError('INVALID_INPUT', `cannot write ${this.target}: ${this.error.message}`, { cause: this.error });
  }

  /** Writes a chunk, waiting while the stream is full; fails if the stream did. */
  async write(chunk: string): Promise<void> {
    this.check();
    if (!this.stream.write(chunk)) {
      await drained(this.stream);
      this.check();
    }
  }

  /** Flushes and renames the file into place. */
  async commit(): Promise<void> {
    if (this.settled) return;
    this.check();
    try {
      await new Promise<void>((resolve, reject) => {
        this.stream.once('error', reject);
        this.stream.end(() => resolve());
      });
      this.check();
      await fsyncPath(this.tempPath);
      await rename(this.tempPath, this.target);
      this.settled = true;
    } catch (err) {
      await this.abort();
      if (err instanceof DoppelError) throw err;
      throw new DoppelError('INVALID_INPUT', `cannot write ${this.target}: ${(err as Error).message}`, { cause: err });
    } finally {
      untrack(this.tempPath);
    }
    await fsyncPath(dirname(resolve(this.target)));
  }

  /** Drops the temporary; the target is left as it was. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.stream.destroy();
    await new Promise<void>((resolve) => (this.stream.closed ? resolve() : this.stream.once('close', () => resolve())));
    await rm(this.tempPath, { force: true });
    untrack(this.tempPath);
  }
}

export interface ReplaceDirOptions {
  /** Runs before a failed build's temporary directory is deleted (to move out what must survive). */
  beforeDiscard?: (tmp: string) => Promise<void>;
}

/**
 * Builds a directory whole in a temporary sibling, then puts it in place of `target`: when the
 * target exists, it is renamed aside, the new one renamed in, and the old one deleted (a crash
 * between the two renames is repaired by removeStaleTemps, which puts the old one back). If
 * `build` fails, the temporary is removed and the target is left as it was.
 */
export async function replaceDir<T>(target: string, build: (tmp: string) => Promise<T>, options: ReplaceDirOptions = {}): Promise<T> {
  target = replaceablePath(target);
  const tmp = tempPathFor(target);
  track(tmp);
  let result: T;
  try {
    await mkdir(tmp);
    result = await build(tmp);
    await fsyncTree(tmp);
    await swapIn(tmp, target);
  } catch (err) {
    if (options.beforeDiscard) await options.beforeDiscard(tmp).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    untrack(tmp);
  }
  return result;
}

async function swapIn(tmp: string, target: string): Promise<void> {
  const parent = dirname(target);
  if (!existsSync(target)) {
    await rename(tmp, target);
    await fsyncPath(parent);
    return;
  }
  const old = `${target}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
  swapping.set(old, target);
  hook();
  try {
    await rename(target, old);
    try {
      await rename(tmp, target);
    } catch (err) {
      await rename(old, target);
      throw err;
    }
    await fsyncPath(parent);
    await rm(old, { recursive: true, force: true });
  } finally {
    swapping.delete(old);
    unhook();
  }
}
