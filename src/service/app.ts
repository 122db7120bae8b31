import { createHash, timingSafeEqual } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DoppelError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { PairExplanation } from '../model/load.js';
import type { DuplicateIndex } from '../search/open-index.js';
import type { Hit } from '../search/index-api.js';
import { LruCache } from '../util/lru-cache.js';
import { Admission, type AdmissionOptions, DEFAULT_ADMISSION } from './admission.js';
import { Metrics, UNMATCHED_ROUTE } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import {
  describeIssues,
  DuplicatesBody,
  DuplicatesResponse,
  Explanation,
  ErrorResponse,
  FeedbackBody,
  FeedbackCreated,
  Health,
  Match,
  Question,
  QuestionBody,
  QuestionCreated,
  QuestionDeleted,
  QuestionParams,
  SimilarityBody,
  SimilarityResponse,
  SuggestQuery,
  SuggestResponse,
} from './schemas.js';

export interface ServiceOptions {
  /** When set, write requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Requests per second and burst per client address; undefined turns limiting off. */
  rateLimit?: { rate: number; burst: number };
  maxBodyBytes?: number;
  /** Most characters (keys plus cached JSON) the suggestion cache holds; default 8 M (about 16 MB). */
  suggestCacheChars?: number;
  /**
   * The writer process's URL, in a read-only worker of `serve --workers`: writes are forwarded
   * there as they came (the store has one writer), reads are answered here.
   */
  writer?: string;
  /** Bounds on the requests that encode and search (default DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionOptions>;
  logger: Logger;
  version: string;
}

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/service/web');

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new DoppelError('INVALID_INPUT', describeIssues(result.error));
  return result.data;
}

/**
 * Sends a JSON body whose type is the output of its zod response schema, the one the OpenAPI
 * document declares for this route and status, so a field added here and not there (or the
 * other way round) does not compile. test/openapi.test.ts checks the real bodies as well.
 */
function send<S extends z.ZodType>(res: Response, status: number, _schema: S, body: z.output<S>): void {
  res.status(status).json(body);
}

const sendError = (res: Response, code: ErrorCode, message: string) => {
  const body: z.output<typeof ErrorResponse> = { error: { code, message } };
  res.status(ERROR_CODES[code]).json(body);
};

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Middleware that lets a request through only with `Authorization: Bearer <apiKey>` (any case of
 * "Bearer"). It is attached to each write route, so the decision follows Express's own routing
 * (case-insensitive, trailing slash optional) rather than a second reading of the path. The keys
 * are compared as SHA-256 digests in constant time, so neither the key nor its length leaks
 * through response timing.
 */
export function requireKey(apiKey: string | undefined) {
  const expected = apiKey ? sha256(apiKey) : undefined;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!expected) return next();
    const header = req.get('authorization') ?? '';
    const bearer = /^bearer[ \t]+(.*)$/is.exec(header);
    // Hashed even when the scheme is wrong, so every rejection costs the same.
    const given = sha256(bearer ? bearer[1].trim() : '');
    if (!bearer || !timingSafeEqual(given, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="doppel"');
      return sendError(res, 'UNAUTHORIZED', 'this write needs Authorization: Bearer <DOPPEL_API_KEY>');
    }
    next();
  };
}

/** Connections to a writer's private listener, which only the workers of `serve --workers` reach. */
export const forwardedSockets = new WeakSet<object>();

/** With explain: true, how many of the best matches carry an explanation. */
const EXPLAINED_MATCHES = 5;
const explanation = (e: PairExplanation): z.output<typeof Explanation> => ({ alignment: e.alignment, reasons: e.reasons, baseline: e.baseline, rule: e.rule });
const match = (h: Hit): z.output<typeof Match> => ({ id: h.id, text: h.text, category: h.category, energy: h.energy, probability: h.probability, isDuplicate: h.isDuplicate });

/**
 * The metrics label of a request: the pattern of the route that handled it, '/assets' for a
 * static file, else UNMATCHED_ROUTE. Never the raw path, which the client chooses. (Express
 * also sets req.route when a HEAD reaches a route without GET; that is no match.)
 */
function routeLabel(req: Request, res: Response): string {
  const route = req.route as { path?: unknown; methods?: Record<string, boolean> } | undefined;
  const m = req.method.toLowerCase();
  if (typeof route?.path === 'string' && (route.methods?.[m] || (m === 'head' && route.methods?.get))) return route.path;
  if (res.locals.metricsRoute === '/assets') return '/assets';
  return UNMATCHED_ROUTE;
}

/**
 * A handler that replays the request on another server (the writer) and streams its answer
 * back, status, headers and body as they are; 503 when the writer cannot be reached.
 */
function forwardTo(base: string, log: Logger) {
  const target = new URL(base);
  return (req: Request, res: Response) => {
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.originalUrl, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      log.error({ err }, 'forwarding a write to the writer process failed');
      if (!res.headersSent) {
        res.setHeader('Retry-After', '1');
        sendError(res, 'OVERLOADED', 'the writer process is not answering; retry shortly');
      } else res.destroy();
    });
    req.pipe(upstream);
  };
}

/** The HTTP API and the web page over one open duplicate index. */
export function createApp(index: DuplicateIndex, options: ServiceOptions) {
  const app = express();
  const model = index.model;
  let admission: Admission | undefined;
  const metrics = new Metrics({
    queued: () => admission?.queued ?? 0,
    index: async () => {
      const s = await index.stats();
      return { indexed: s.indexed, deleted: s.deleted, feedback: s.feedback };
    },
    model: { model: model.id, energy: model.files.config.energy, encoder: model.encoder.runtime },
  });
  const bounds = options.admission ?? {};
  admission = new Admission(
    {
      concurrency: bounds.concurrency ?? DEFAULT_ADMISSION.concurrency,
      queue: Math.floor(bounds.queue ?? DEFAULT_ADMISSION.queue),
      deadlineMs: bounds.deadlineMs ?? DEFAULT_ADMISSION.deadlineMs,
    },
    (reason) => metrics.refused(reason),
  );
  const arrivals = new WeakMap<Request, number>();
  const admit = <T>(req: Request, work: () => Promise<T>) => admission!.run(work, arrivals.get(req));
  const doc = openApiDocument(options.version);
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit.rate, options.rateLimit.burst) : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  // Cached as JSON text, so the cache is bounded by characters as well as by entries.
  const suggestCache = new LruCache<string>(5000, { maxWeight: options.suggestCacheChars ?? 8_000_000, weigh: (key, json) => key.length + json.length });
  // Suggestions are cached for one store generation: any write, by any process, empties the cache.
  let cachedGeneration = index.generation;
  const log = options.logger;
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = performance.now();
    arrivals.set(req, started);
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      // Labels come only from routes the app declares (never from the raw path), so requests
      // to made-up paths all land in one series and /metrics stays the same size.
      metrics.observe(req.method, routeLabel(req, res), res.statusCode, seconds);
      log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, 'request');
    });
    next();
  });

  if (limiter) {
    app.use('/v1', (req, res, next) => {
      // Writes forwarded by workers arrive from 127.0.0.1: their worker limited the real client.
      if (forwardedSockets.has(req.socket)) return next();
      const wait = limiter.take(req.socket.remoteAddress ?? 'unknown');
      if (wait > 0) {
        res.setHeader('Retry-After', String(Math.ceil(wait)));
        return sendError(res, 'RATE_LIMITED', 'too many requests; slow down');
      }
      next();
    });
  }

  // Per route, in this order: the key (writes only), then the content type, then the body. An
  // unauthenticated write is refused before its body is read.
  if (options.writer) {
    const forward = forwardTo(options.writer, log);
    app.post('/v1/questions', forward);
    app.delete('/v1/questions/:id', forward);
    app.post('/v1/feedback', forward);
  }
  const auth = requireKey(options.apiKey);
  const jsonBody = [
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('application/json')) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
      next();
    },
    express.json({ limit: maxBodyBytes }),
  ];

  app.post('/v1/duplicates', jsonBody, async (req: Request, res: Response) => {
    const body = parse(DuplicatesBody, req.body);
    const { hits, matches } = await admit(req, async () => {
      const found = await index.search(body.text, { k: body.k ?? 5, mode: body.mode ?? 'hybrid', category: body.category });
      // An explanation runs the encoder again for the pair: the first few matches are the ones read.
      const explained = await Promise.all(found.map(async (h, i) => (body.explain && i < EXPLAINED_MATCHES ? { ...match(h), explanation: explanation(await model.explainPair(body.text, h.text)) } : match(h))));
      return { hits: found, matches: explained };
    });
    send(res, 200, DuplicatesResponse, { isDuplicate: hits.some((h) => h.isDuplicate), threshold: model.threshold, matches });
  });

  app.post('/v1/questions', auth, jsonBody, async (req: Request, res: Response) => {
    const body = parse(QuestionBody, req.body);
    const { question, duplicates } = await admit(req, () => index.addIfNew({ id: body.id, text: body.text, category: body.category }));
    send(res, 201, QuestionCreated, { id: question.id, duplicates: duplicates.map(match) });
  });

  app.get('/v1/questions/:id', async (req, res) => {
    const { id } = parse(QuestionParams, req.params);
    const q = await index.get(id);
    if (!q) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
    send(res, 200, Question, { id: q.id, text: q.text, category: q.category, createdAt: q.createdAt });
  });

  app.delete('/v1/questions/:id', auth, async (req, res) => {
    const removed = await index.remove(parse(QuestionParams, req.params).id);
    send(res, 200, QuestionDeleted, { id: removed.id, deleted: true });
  });

  app.post('/v1/similarity', jsonBody, async (req: Request, res: Response) => {
    const { a, b, explain } = parse(SimilarityBody, req.body);
    const scored = await admit(req, () => (explain ? model.explainPair(a, b) : model.scorePair(a, b)));
    const { energy, probability, isDuplicate, threshold, decidedBy } = scored;
    send(res, 200, SimilarityResponse, { energy, probability, isDuplicate, threshold, decidedBy, ...(explain ? { explanation: explanation(scored) } : {}) });
  });

  app.get('/v1/suggest', async (req, res) => {
    const query = parse(SuggestQuery, req.query);
    const q = query.q.replace(/\s+/g, ' ').trimStart();
    const k = query.k ?? 5;
    if (q.trim().length < 2) return send(res, 200, SuggestResponse, { suggestions: [] });
    const key = `${k}|${query.category ?? ''}|${q.toLowerCase()}`;
    const generation = index.generation;
    if (generation !== cachedGeneration) {
      suggestCache.clear();
      cachedGeneration = generation;
    }
    let payload = generation === undefined ? undefined : suggestCache.get(key);
    metrics.suggestion(payload !== undefined);
    if (payload === undefined) {
      const hits = await admit(req, () => index.search(q, { k, mode: 'hybrid', category: query.category, prefix: true }));
      const body: z.output<typeof SuggestResponse> = { suggestions: hits.map(match) };
      payload = JSON.stringify(body);
      // A write committed while this search ran would make the answer stale under the new generation.
      if (generation !== undefined && index.generation === generation) suggestCache.set(key, payload);
    }
    res.type('application/json').send(payload);
  });

  app.post('/v1/feedback', auth, jsonBody, async (req: Request, res: Response) => {
    send(res, 201, FeedbackCreated, { id: await index.feedback(parse(FeedbackBody, req.body)) });
  });

  app.get('/healthz', async (_req, res) => {
    send(res, 200, Health, { status: 'ok', questions: (await index.stats()).indexed, model: model.id, encoder: model.encoder.runtime });
  });

  app.get('/metrics', async (_req, res) => {
    const text = await metrics.render();
    res.type(metrics.contentType).send(text);
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });

  app.get('/', (_req, res) => res.sendFile(join(WEB_DIR, 'index.html')));
  app.use(
    '/assets',
    (req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') res.locals.metricsRoute = '/assets';
      next();
    },
    express.static(WEB_DIR, { index: false, maxAge: '1h' }),
  );

  app.use((req, res) => sendError(res, 'NOT_FOUND', `no route ${req.method} ${req.path.slice(0, 200)}`));

  // Express recognises an error handler by its four parameters.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    // Too late for a JSON answer: Express's default handler closes the connection.
    if (res.headersSent) return next(err);
    const e = (typeof err === 'object' && err !== null ? err : {}) as { type?: unknown; status?: unknown; message?: unknown };
    if (err instanceof DoppelError) {
      if (err.code === 'OVERLOADED') res.setHeader('Retry-After', '1');
      return sendError(res, err.code, err.message);
    }
    if (e.type === 'entity.too.large') return sendError(res, 'PAYLOAD_TOO_LARGE', `body larger than ${maxBodyBytes} bytes`);
    if (e.type === 'entity.parse.failed') return sendError(res, 'INVALID_INPUT', 'body is not valid JSON');
    // body-parser and Express mark client faults (bad charset or encoding, aborted body, bad
    // percent-encoding in the path) with a 4xx status.
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      if (e.status === 413) return sendError(res, 'PAYLOAD_TOO_LARGE', `body larger than ${maxBodyBytes} bytes`);
      if (e.status === 415) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', typeof e.message === 'string' ? e.message : 'unsupported body encoding');
      return sendError(res, 'INVALID_INPUT', typeof e.message === 'string' ? e.message : 'bad request');
    }
    log.error({ err }, 'unhandled error');
    send(res, 500, ErrorResponse, { error: { code: 'INTERNAL', message: 'internal error' } });
  });

  return { app, metrics };
}
