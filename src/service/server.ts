import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DuplicateIndex } from '../search/stores.js';
import { createApp, forwardedSockets, type ServiceOptions } from './app.js';

export interface ServerOptions extends ServiceOptions {
  host: string;
  port: number;
  /** Open connections accepted at once; more are dropped at accept. Default 1024. */
  maxConnections?: number;
  /** Milliseconds close() waits for open connections before cutting them. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** Milliseconds a client has to send the request headers. Default 10 000. */
  headersTimeoutMs?: number;
  /** Milliseconds a client has to send a whole request. Default 30 000. */
  requestTimeoutMs?: number;
  /** Milliseconds between saves of the vector graph (writes are durable in SQLite at once). Default 30 000. */
  saveIntervalMs?: number;
  /**
   * Also listen on a Unix socket of its own (not shared with the other workers of `serve
   * --workers`), in a directory only this user can enter: where the read-only workers forward
   * writes. No TCP port, so no other user's process can reach it.
   */
  internal?: boolean;
}

export interface RunningServer {
  url: string;
  server: Server;
  /** With `internal`: the path of the private socket. */
  internalSocket?: string;
  /**
   * Stops accepting, lets in-flight requests finish for up to the shutdown deadline (answering
   * each with `Connection: close`, so kept-alive connections end with them), then closes what
   * is left, saves the index and closes the store. With `internal`, the private socket keeps
   * serving until releaseInternal(): the workers that forward to it finish their writes first.
   */
  close(): Promise<void>;
  /** The workers that forward writes here have stopped: the private socket may drain and close. */
  releaseInternal(): void;
}

export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Whether a listen address only takes connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h) || /^(0{1,4}:){7}0{0,3}1$/.test(h);
  return false;
}

/** An http server with the service's limits: header and request timeouts, a connection cap. */
function limitedServer(handler: (req: IncomingMessage, res: ServerResponse) => void, options: ServerOptions): Server {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = requestTimeout > 0 ? Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout) : (options.headersTimeoutMs ?? 10_000);
  // Slow clients (headers or body dribbled in) are cut after these limits; Node checks them
  // every connectionsCheckingInterval.
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(100, Math.min(2000, headersTimeout)) }, handler);
  server.keepAliveTimeout = 5000;
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  return server;
}

function listen(server: Server, target: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Calls back once `server` has closed: no new connections, and every open one ended. */
const drained = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

export async function startServer(index: DuplicateIndex, options: ServerOptions): Promise<RunningServer> {
  const log = options.logger;
  const { app, modelSwitch } = createApp(index, options);
  let draining = false;
  // While draining, each answer closes its connection: a kept-alive client opens a new one,
  // which reaches a process that is not stopping.
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('Connection', 'close');
    app(req, res);
  };
  const server = limitedServer(handler, options);
  await listen(server, { port: options.port, host: options.host });
  let internal: Server | undefined;
  let privateDir: string | undefined;
  if (options.internal) {
    privateDir = mkdtempSync(join(tmpdir(), 'doppel-writer-'));
    internal = limitedServer(handler, options);
    internal.on('connection', (socket) => forwardedSockets.add(socket));
    await listen(internal, { path: join(privateDir, 'writer.sock') });
    chmodSync(join(privateDir, 'writer.sock'), 0o600);
  }
  // After start a socket error (EMFILE while accepting under a connection flood, say) is logged
  // and survived: a server 'error' event without a listener would end the process.
  for (const s of [server, internal]) s?.on('error', (err) => log.error({ err }, 'server socket error'));
  server.on('drop', (data) => log.warn({ remoteAddress: data?.remoteAddress, maxConnections: server.maxConnections }, 'connection dropped: too many open connections'));
  if (!options.apiKey && !(await options.keys?.any()) && !isLoopbackHost(options.host)) {
    log.warn({ host: options.host }, 'listening on a non-loopback address without API keys: anyone who can reach it can add and delete questions (set DOPPEL_API_KEY, or doppel keys create)');
  }
  // An activation a crash or stop left unfinished goes on (or is forgotten), the current model serving meanwhile.
  if (!options.workers && !options.writer) modelSwitch.resume().catch((err: Error) => log.error({ err: err.message }, 'model activation: resuming failed'));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  // Written questions are durable in SQLite at once; the graph is saved now and then so a
  // restart rarely has to replay many of them.
  const saver = setInterval(() => {
    index.save().catch((err: unknown) => log.error({ err }, 'saving the vector index failed'));
  }, options.saveIntervalMs ?? 30_000);
  saver.unref();
  const deadline = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearInterval(saver);
      const open = [server, internal].filter((s): s is Server => s !== undefined);
      // Past the deadline the connections still open (a slow upload, a client that keeps its
      // socket busy) are cut; the index is saved and closed whether or not they go quietly.
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log.warn({ deadlineMs: deadline }, 'shutdown deadline passed: closing the remaining connections');
          for (const s of open) {
            s.close();
            s.closeAllConnections();
          }
          // close() calls back once the cut sockets have closed; this is a backstop.
          setTimeout(resolve, 250);
        }, deadline);
      });
      const main = drained(server);
      server.closeIdleConnections();
      const forwarded = internal
        ? released.then(() => {
            const done = drained(internal!);
            internal!.closeIdleConnections();
            return done;
          })
        : undefined;
      await Promise.race([Promise.all([main, forwarded]), cut]);
      clearTimeout(timer);
      if (privateDir) rmSync(privateDir, { recursive: true, force: true });
      await modelSwitch.stop();
      await Promise.all([index.close(), options.keys?.close(), options.review?.close()]);
    })());
  const internalSocket = privateDir ? join(privateDir, 'writer.sock') : undefined;
  return { url: `http://${host}:${port}/`, server, internalSocket, close, releaseInternal: release };
}

/** What the supervisor of `serve --workers` sends a worker to shut it down gracefully. */
export const STOP_MESSAGE = 'doppel:stop';

/** What the supervisor sends the writer once every read-only worker has stopped. */
export const READERS_GONE_MESSAGE = 'doppel:readers-gone';

/**
 * Shuts the server down gracefully once, then exits. A lone server stops on SIGINT/SIGTERM (a
 * second signal exits at once). A worker of `serve --workers` stops only when its supervisor
 * says so, or when the supervisor is gone: a signal to the whole process group (Ctrl-C,
 * systemd) must not stop the writer before the workers that forward writes to it.
 */
export function closeOnSignals(running: RunningServer, logger: Logger, supervised = false): void {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) {
      if (!supervised) process.exit(1);
      return;
    }
    stopping = true;
    logger.info({ reason }, 'shutting down: finishing in-flight requests, saving the index');
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  if (supervised) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => logger.debug({ signal }, 'left to the supervisor'));
    process.on('disconnect', () => {
      // No supervisor will say when the read-only workers are gone: they stop by themselves too.
      running.releaseInternal();
      stop('supervisor gone');
    });
    process.on('message', (message) => {
      if (message === STOP_MESSAGE) stop('supervisor');
      if (message === READERS_GONE_MESSAGE) running.releaseInternal();
    });
    return;
  }
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
