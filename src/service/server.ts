import { createServer, type Server } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { DuplicateIndex } from '../search/open-index.js';
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
   * Also listen on a port of its own on 127.0.0.1 (not shared with the other workers of
   * `serve --workers`): where the read-only workers forward writes.
   */
  internal?: boolean;
}

export interface RunningServer {
  url: string;
  server: Server;
  /** With `internal`: the URL of the private listener. */
  internalUrl?: string;
  /**
   * Stops accepting, lets in-flight requests finish for up to the shutdown deadline, then
   * closes what is left, saves the index and closes SQLite.
   */
  close(): Promise<void>;
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

export async function startServer(index: DuplicateIndex, options: ServerOptions): Promise<RunningServer> {
  const log = options.logger;
  const { app } = createApp(index, options);
  const internal = options.internal ? createServer(app) : undefined;
  internal?.on('connection', (socket) => forwardedSockets.add(socket));
  if (internal) await new Promise<void>((resolve) => internal.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve));
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = requestTimeout > 0 ? Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout) : (options.headersTimeoutMs ?? 10_000);
  // Slow clients (headers or body dribbled in) are cut after these limits; Node checks them
  // every connectionsCheckingInterval.
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(100, Math.min(2000, headersTimeout)) }, app);
  server.keepAliveTimeout = 5000;
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After start a socket error (EMFILE while accepting under a connection flood, say) is logged
  // and survived: a server 'error' event without a listener would end the process.
  server.on('error', (err) => log.error({ err }, 'server socket error'));
  server.on('drop', (data) => log.warn({ remoteAddress: data?.remoteAddress, maxConnections: server.maxConnections }, 'connection dropped: too many open connections'));
  if (!options.apiKey && !isLoopbackHost(options.host)) {
    log.warn({ host: options.host }, 'listening on a non-loopback address without an API key: anyone who can reach it can add and delete questions (set DOPPEL_API_KEY)');
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  // Written questions are durable in SQLite at once; the graph is saved now and then so a
  // restart rarely has to replay many of them.
  const saver = setInterval(() => {
    index.save().catch((err: unknown) => log.error({ err }, 'saving the vector index failed'));
  }, options.saveIntervalMs ?? 30_000);
  saver.unref();
  const deadline = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      clearInterval(saver);
      internal?.close();
      internal?.closeIdleConnections();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        index.close().then(resolve, reject);
      };
      // Past the deadline the connections still open (a slow upload, a client that keeps its
      // socket busy) are cut; the index is saved and closed whether or not they go quietly.
      const timer = setTimeout(() => {
        log.warn({ deadlineMs: deadline }, 'shutdown deadline passed: closing the remaining connections');
        server.closeAllConnections();
        // server.close() calls back once the cut sockets have closed; this is a backstop.
        setTimeout(finish, 250);
      }, deadline);
      server.close(() => finish());
      server.closeIdleConnections();
    }));
  const internalUrl = internal ? `http://127.0.0.1:${(internal.address() as AddressInfo).port}/` : undefined;
  return { url: `http://${host}:${port}/`, server, internalUrl, close };
}

/** What the supervisor of `serve --workers` sends a worker to shut it down gracefully. */
export const STOP_MESSAGE = 'doppel:stop';

/** SIGINT/SIGTERM: shut down gracefully once; a second signal exits at once. */
export function closeOnSignals(running: RunningServer, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests, saving the index');
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A worker of `serve --workers` is also told by its supervisor; Ctrl-C reaches both, and that
  // pair must not count as the second signal that cuts the shutdown short.
  process.on('message', (message) => {
    if (message === STOP_MESSAGE && !stopping) stop('supervisor');
  });
}
