import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DoppelError } from '../../errors.js';
import { describeStore, DuplicateIndex, resolveStore } from '../../search/stores.js';
import { countQuestions, importQuestions } from '../../search/import-file.js';
import type { Model } from '../../model/load.js';
import { closeOnSignals, DEFAULT_SHUTDOWN_TIMEOUT_MS, startServer } from '../../service/server.js';
import { superviseWorkers, type WorkerReady, workerRole } from '../../service/workers.js';
import type { OperatingPointName } from '../../verdict/operating-points.js';
import { ProgressBar } from '../progress.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const DEMO_STORE = join(ROOT, 'data/demo-store');
export const DEMO_QUESTIONS = join(ROOT, 'data/sample/questions.tsv');

export interface ServeOptions {
  store?: string;
  /** Re-encode a store another model encoded (offline; doppel model activate switches without downtime). */
  reencode?: boolean;
  readUrl?: string;
  poolSize?: number;
  demo: boolean;
  host: string;
  port: number;
  rateLimit: number;
  saveInterval: number;
  /** Open connections at once (default: $DOPPEL_MAX_CONNECTIONS or 1024). */
  maxConnections?: number;
  /** Seconds shutdown waits for open requests before cutting them (default: $DOPPEL_SHUTDOWN_TIMEOUT or 10). */
  shutdownTimeout?: number;
  /** Server processes sharing the port (one writes, the others read). Default 1. */
  workers: number;
  /** Requests that wait for a slot before more are refused with 503. */
  maxQueue?: number;
  /** Milliseconds after its arrival a request may still start; later ones are refused with 503. */
  deadline?: number;
  /** Which matches every answer calls duplicates unless a request says otherwise. */
  operatingPoint?: OperatingPointName;
  /** Browser origins allowed to call the API. */
  corsOrigin: string[];
  /** Reads need a key too. */
  requireKey: boolean;
  /** /metrics needs an admin key. */
  protectMetrics: boolean;
}

/** A positive number from an option or the environment; undefined leaves the server default. */
function positive(value: number | string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new DoppelError('INVALID_INPUT', `${name} must be a positive number, not '${value}'`);
  return n;
}

export async function serveCommand(model: Model, opts: ServeOptions, log: (m: string) => void): Promise<void> {
  const { role, writer } = workerRole();
  const shutdownSeconds = positive(opts.shutdownTimeout ?? process.env.DOPPEL_SHUTDOWN_TIMEOUT, 'shutdown timeout');
  const shutdownTimeoutMs = shutdownSeconds === undefined ? undefined : shutdownSeconds * 1000;
  if (opts.workers > 1 && !role) return superviseWorkers(opts.workers, shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS, log);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const maxConnections = positive(opts.maxConnections ?? process.env.DOPPEL_MAX_CONNECTIONS, 'max connections');
  const store = opts.store ?? DEMO_STORE;
  if (opts.readUrl && !resolveStore(store).readReplicas) throw new DoppelError('INVALID_INPUT', '--read-url needs a postgres:// --store');
  // The demo store is derived data: re-encoded when the bundled model changes.
  const index = await DuplicateIndex.open(store, { model, log, readUrl: opts.readUrl, poolSize: opts.poolSize, readonly: role === 'reader', reencode: opts.reencode || store === DEMO_STORE });
  if (opts.demo && role !== 'reader' && (await index.stats()).questions === 0) {
    const total = await countQuestions(DEMO_QUESTIONS);
    log(`first start: building the demo store in ${describeStore(store)} from ${total} sample questions`);
    const bar = new ProgressBar('demo store', total, 'questions');
    const r = await importQuestions(index, DEMO_QUESTIONS, { onProgress: (n) => bar.update(n) });
    bar.done(`[doppel] demo store ready: ${r.added} questions in ${r.seconds.toFixed(1)} s`);
    await index.save();
  }
  index.warm();
  const keys = await resolveStore(store).openKeys(store, { readonly: true });
  const review = await resolveStore(store).openReview(store);
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const running = await startServer(index, {
    host: opts.host,
    port: opts.port,
    apiKey: process.env.DOPPEL_API_KEY || undefined,
    keys,
    review,
    requireKey: opts.requireKey,
    protectMetrics: opts.protectMetrics,
    corsOrigins: opts.corsOrigin,
    rateLimit: opts.rateLimit > 0 ? { rate: opts.rateLimit, burst: 2 * opts.rateLimit } : undefined,
    maxConnections: maxConnections === undefined ? undefined : Math.max(1, Math.floor(maxConnections)),
    shutdownTimeoutMs,
    operatingPoint: opts.operatingPoint,
    logger,
    version,
    saveIntervalMs: opts.saveInterval * 1000,
    admission: { queue: positive(opts.maxQueue, 'max queue'), deadlineMs: positive(opts.deadline, 'deadline') },
    internal: role === 'writer',
    workers: role !== undefined,
    writer,
  });
  closeOnSignals(running, logger, role !== undefined);
  const { questions } = await index.stats();
  if (role) {
    const ready: WorkerReady = { url: running.url, internalSocket: running.internalSocket, questions };
    process.send!(ready);
    return;
  }
  logger.info({ url: running.url, store: describeStore(store), model: model.id, encoder: model.encoder.runtime, questions }, 'doppel is serving');
  log(`serving ${questions} questions on ${running.url}`);
}
