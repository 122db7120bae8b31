/**
 * `serve --workers N`: N server processes share the port (Node's cluster module hands each new
 * connection to the next process), so that requests are answered on every core. The store
 * keeps one writer: the first worker opens it for writing and also listens on a private Unix
 * socket; the others open it read-only, answer reads themselves (following the writer's changes
 * before each search) and forward writes to it. The supervisor (this process) holds no index.
 *
 * Shutdown is the supervisor's: every worker drains its own connections at once, but the writer
 * keeps its private socket open until the read-only workers have stopped, so a write they
 * forward during the drain is answered, and closes its store only after that.
 */
import cluster, { type Worker } from 'node:cluster';
import { DoppelError } from '../errors.js';
import { READERS_GONE_MESSAGE, STOP_MESSAGE } from './server.js';

/** What a worker tells the supervisor once it serves. */
export interface WorkerReady {
  url: string;
  internalSocket?: string;
  questions: number;
}

export type WorkerRole = 'writer' | 'reader';

/** This process's part in `serve --workers`, from the environment the supervisor gave it. */
export function workerRole(): { role?: WorkerRole; writer?: string } {
  const role = process.env.DOPPEL_WORKER_ROLE;
  return cluster.isWorker && (role === 'writer' || role === 'reader') ? { role, writer: process.env.DOPPEL_WRITER_SOCKET } : {};
}

function fork(env: Record<string, string>): Promise<{ worker: Worker; ready: WorkerReady }> {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork(env);
    const failed = (code: number) => reject(new DoppelError('STORE_ERROR', `a server worker exited (code ${code}) before it was ready`));
    worker.once('exit', failed);
    worker.once('message', (ready: WorkerReady) => {
      worker.off('exit', failed);
      resolve({ worker, ready });
    });
  });
}

/**
 * Starts the writer, then the read-only workers; stops them all on SIGINT/SIGTERM, or when one
 * of them dies (a half-working server is worse than a stopped one that a supervisor restarts).
 * A worker still alive `shutdownMs` after the stop began (plus a second for its own cut) is
 * killed, so the process group is gone within the shutdown deadline.
 */
export async function superviseWorkers(count: number, shutdownMs: number, log: (message: string) => void): Promise<void> {
  const writer = await fork({ DOPPEL_WORKER_ROLE: 'writer' });
  const readers = await Promise.all(Array.from({ length: count - 1 }, () => fork({ DOPPEL_WORKER_ROLE: 'reader', DOPPEL_WRITER_SOCKET: writer.ready.internalSocket! })));
  const alive = new Set<Worker>([writer.worker, ...readers.map((r) => r.worker)]);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of alive) if (worker.isConnected()) worker.send(STOP_MESSAGE);
    setTimeout(() => {
      for (const worker of alive) worker.process.kill('SIGKILL');
    }, shutdownMs + 1000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  cluster.on('exit', (worker, code) => {
    alive.delete(worker);
    if (!stopping) {
      log(`server worker ${worker.process.pid} exited (code ${code}): stopping the others`);
      process.exitCode = 1;
      stop();
    }
    if (alive.size === 1 && alive.has(writer.worker) && writer.worker.isConnected()) writer.worker.send(READERS_GONE_MESSAGE);
    if (alive.size === 0) process.exit();
  });
  log(`serving ${writer.ready.questions} questions on ${writer.ready.url} (${count} processes: one writer, ${count - 1} read-only)`);
}
