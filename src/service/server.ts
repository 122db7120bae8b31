import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { DuplicateIndex } from '../index/duplicate-index.js';
import { createApp, type ServiceOptions } from './app.js';

export interface RunningServer {
  url: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish, saves the index and closes SQLite. */
  close(): Promise<void>;
}

export async function startServer(index: DuplicateIndex, options: ServiceOptions & { host: string; port: number; saveIntervalMs?: number }): Promise<RunningServer> {
  const { app } = createApp(index, options);
  const server = createServer(app);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  // Written questions are durable in SQLite at once; the graph is saved now and then so a
  // restart rarely has to replay many of them.
  const saver = setInterval(() => {
    try {
      index.save();
    } catch (err) {
      options.logger.error({ err }, 'saving the vector index failed');
    }
  }, options.saveIntervalMs ?? 30_000);
  saver.unref();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      clearInterval(saver);
      server.close(() => {
        try {
          index.close();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
      server.closeIdleConnections();
    }));
  return { url: `http://${host}:${port}/`, server, close };
}

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
}
