import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import pino from 'pino';
import { DuplicateIndex, resolveStore } from '../src/search/stores.js';
import type { KeyScope } from '../src/search/api-keys.js';
import { newKey } from '../src/service/auth.js';
import { loadModel, type Model } from '../src/model/load.js';
import { type RunningServer, type ServerOptions, startServer } from '../src/service/server.js';

/** The repository root (tests run from dist/test). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SAMPLE_PAIRS = join(ROOT, 'data/sample/pairs.tsv');
export const SAMPLE_QUESTIONS = join(ROOT, 'data/sample/questions.tsv');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

const execFileAsync = promisify(execFile);

/** Runs the built doppel command; rejects on a non-zero exit. */
export const doppel = (args: string[]) => execFileAsync(process.execPath, [CLI, ...args], { maxBuffer: 16 << 20 });

/** Runs the doppel command expecting it to fail: its exit code and stderr. */
export async function doppelFails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await doppel(args);
  } catch (err) {
    return err as { code: number; stderr: string };
  }
  throw new Error(`doppel ${args.join(' ')} should have failed`);
}

/** A model small enough to train in seconds on the sample pairs (add --epochs and what the test is about). */
export const TINY_TRAINING = ['--preset', 'seed', '--embedding-dim', '32', '--hidden', '32', '--batch-size', '32', '--lr', '0.003', '--valid-fraction', '0.2', '--seed', '1'];

/** A fresh temporary directory, removed when `cleanup` (a test's or suite's `after`) runs. */
export function tempDir(cleanup: (fn: () => void) => void, prefix = 'doppel-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4, what = 'values'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`${what}[${i}]: ${actual[i]} differs from ${expected[i]} by more than ${tol}`);
    }
  }
}

/** Five questions on distinct topics, two per category where a category has two. */
export const TOPICS = [
  { id: 'q1', text: 'How do I learn to play the guitar?', category: 'music' },
  { id: 'q2', text: 'What is the fastest way to learn piano?', category: 'music' },
  { id: 'q3', text: 'How can I improve my credit score?', category: 'money' },
  { id: 'q4', text: 'Which stocks should a beginner buy?', category: 'money' },
  { id: 'q5', text: 'How do I bake sourdough bread at home?', category: 'food' },
];

/**
 * The bundled model on the wasm backend, loaded once for a test file, and a way to open stores
 * with it: `const { model, open } = useBundledModel()`, then `model()` / `open(dir)` inside tests.
 */
export function useBundledModel() {
  let model: Model | undefined;
  before(async () => {
    model = await loadModel(undefined, { backend: 'wasm' });
  });
  after(() => model?.dispose());
  const get = () => model!;
  return { model: get, open: (dir: string, readonly = false) => DuplicateIndex.open(dir, { model: get(), readonly }) };
}

/**
 * Ends an index the way a crash would: SQLite is closed (what was committed stays) but the graph
 * is not saved. Reaches past the public API on purpose; only tests do this.
 */
export function simulateCrash(index: DuplicateIndex): void {
  (index as unknown as { store: { close(): void } }).store.close();
}

/** Gives up an index's writer lease without closing it, as if the owner could not be checked. */
export function dropLease(index: DuplicateIndex): void {
  (index as unknown as { store: { lease: { release(): void } } }).store.lease.release();
}

/** A real server on 127.0.0.1 (any free port, silent logs) over the store in `store`. */
export async function serveStore(model: Model, store: string, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const index = await DuplicateIndex.open(store, { model });
  // As doppel serve does: the store's API keys and review queue, which the server closes with the index.
  const keys = await resolveStore(store).openKeys(store, { readonly: true });
  const review = await resolveStore(store).openReview(store);
  return startServer(index, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), version: 'test', keys, review, ...extra });
}

/** Makes an API key in a store, as `doppel keys create` does; returns the key. */
export async function createKey(store: string, scope: KeyScope, options: { origin?: string; rate?: number; name?: string } = {}): Promise<string> {
  const made = newKey(scope);
  const keys = await resolveStore(store).openKeys(store, { readonly: false });
  try {
    await keys.create({ id: made.id, hash: made.hash, name: options.name ?? `${scope}-${made.id}`, scope, origin: options.origin ?? null, rate: options.rate ?? null });
  } finally {
    await keys.close();
  }
  return made.key;
}

/** A pid that belonged to a process which has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}
