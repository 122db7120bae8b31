import { isUtf8 } from 'node:buffer';
import { request as httpRequest } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { DoppelError, ERROR_CODES, type ErrorCode } from '../errors.js';
import { UNMATCHED_ROUTE } from './metrics.js';
import { describeIssues, type ErrorResponse } from './schemas.js';

/** External input checked once, here at the edge: a 400 that says what is wrong. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new DoppelError('INVALID_INPUT', describeIssues(result.error));
  return result.data;
}

/**
 * Sends a JSON body whose type is the output of its zod response schema, the one the OpenAPI
 * document declares for this route and status, so a field added here and not there (or the
 * other way round) does not compile. test/openapi.test.ts checks the real bodies as well.
 */
export function send<S extends z.ZodType>(res: Response, status: number, _schema: S, body: z.output<S>): void {
  const started = performance.now();
  const json = JSON.stringify(body);
  // Read by the request's metrics when it finishes (the serialise stage).
  res.locals.serialiseSeconds = (performance.now() - started) / 1000;
  res.status(status).type('application/json').send(json);
}

export function sendError(res: Response, code: ErrorCode, message: string): void {
  const body: z.output<typeof ErrorResponse> = { error: { code, message } };
  res.status(ERROR_CODES[code]).json(body);
}

/**
 * A JSON body: the content type first (415), then the size and syntax (413, 400), then its
 * bytes. A UTF-8 body that is not valid UTF-8 is refused (400) rather than read with U+FFFD in
 * place of the bad bytes, as files are: what is stored is what was sent.
 */
export function jsonBody(maxBodyBytes: number) {
  return [
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('application/json')) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
      next();
    },
    express.json({
      limit: maxBodyBytes,
      verify: (_req, res, bytes, encoding) => {
        if (encoding === 'utf-8' && !isUtf8(bytes)) (res as Response).locals.invalidUtf8 = true;
      },
    }),
    (_req: Request, res: Response, next: NextFunction) => {
      if (res.locals.invalidUtf8) return sendError(res, 'INVALID_INPUT', 'the body is not valid UTF-8');
      next();
    },
  ];
}

/**
 * A query string whose bytes (percent-escaped or raw) are not UTF-8 is refused (400), not read
 * with U+FFFD in their place. A stray '%' is left to the query parser, which keeps it literally.
 * On the routes that read their query string (after the key check of any write).
 */
export function utf8Query(req: Request, res: Response, next: NextFunction): void {
  const at = req.url.indexOf('?');
  if (at >= 0) {
    // req.url holds the request line's bytes one per character.
    const bytes = Buffer.from(req.url.slice(at + 1).replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    if (!isUtf8(bytes)) return sendError(res, 'INVALID_INPUT', 'the query string is not valid UTF-8');
  }
  next();
}

/**
 * The metrics label of a request: the pattern of the route that handled it, '/assets' for a
 * static file, else UNMATCHED_ROUTE. Never the raw path, which the client chooses. (Express
 * also sets req.route when a HEAD reaches a route without GET; that is no match.)
 */
export function routeLabel(req: Request, res: Response): string {
  const route = req.route as { path?: unknown; methods?: Record<string, boolean> } | undefined;
  const m = req.method.toLowerCase();
  if (typeof route?.path === 'string' && (route.methods?.[m] || (m === 'head' && route.methods?.get))) return route.path;
  if (res.locals.metricsRoute === '/assets') return '/assets';
  return UNMATCHED_ROUTE;
}

/**
 * A handler that replays the request on the writer's private socket and streams its answer
 * back, status, headers and body as they are: 503 when the writer cannot be reached or does not
 * answer within `timeoutMs`. A client that goes away takes its forwarded request with it.
 */
export function forwardTo(socketPath: string, timeoutMs: number, log: Logger) {
  return (req: Request, res: Response) => {
    const upstream = httpRequest({ socketPath, method: req.method, path: req.originalUrl, headers: req.headers, timeout: timeoutMs }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new DoppelError('OVERLOADED', `the writer process did not answer within ${timeoutMs} ms`)));
    upstream.on('error', (err) => {
      if (res.destroyed) return;
      log.error({ err }, 'forwarding a write to the writer process failed');
      if (!res.headersSent) {
        res.setHeader('Retry-After', '1');
        sendError(res, 'OVERLOADED', 'the writer process is not answering; retry shortly');
      } else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}

/**
 * The last handler: a DoppelError answers with its code; body-parser's and Express's client
 * faults (bad charset or encoding, aborted body, bad percent-encoding) with a 4xx; anything else
 * is logged and answered 500 without its message.
 */
export function errorHandler(maxBodyBytes: number, log: Logger) {
  // Express recognises an error handler by its four parameters.
  return (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    // Too late for a JSON answer: Express's default handler closes the connection.
    if (res.headersSent) return next(err);
    const e = (typeof err === 'object' && err !== null ? err : {}) as { type?: unknown; status?: unknown; message?: unknown };
    if (err instanceof DoppelError) {
      if (err.detail) log.warn({ code: err.code, detail: err.detail }, err.message);
      if (err.code === 'OVERLOADED' || err.code === 'STORE_UNAVAILABLE') res.setHeader('Retry-After', '1');
      return sendError(res, err.code, err.message);
    }
    if (e.type === 'entity.too.large') return sendError(res, 'PAYLOAD_TOO_LARGE', `body larger than ${maxBodyBytes} bytes`);
    if (e.type === 'entity.parse.failed') return sendError(res, 'INVALID_INPUT', 'body is not valid JSON');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      if (e.status === 413) return sendError(res, 'PAYLOAD_TOO_LARGE', `body larger than ${maxBodyBytes} bytes`);
      if (e.status === 415) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', typeof e.message === 'string' ? e.message : 'unsupported body encoding');
      return sendError(res, 'INVALID_INPUT', typeof e.message === 'string' ? e.message : 'bad request');
    }
    log.error({ err }, 'unhandled error');
    sendError(res, 'INTERNAL', 'internal error');
  };
}
