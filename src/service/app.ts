import express, { type Request } from 'express';
import type { Logger } from 'pino';
import type { DuplicateIndex } from '../search/stores.js';
import { DEFAULT_OPERATING_POINT, type OperatingPointName } from '../verdict/operating-points.js';
import { Admission, type AdmissionOptions, DEFAULT_ADMISSION } from './admission.js';
import type { ApiKeyStore } from '../search/api-keys.js';
import type { ReviewQueue } from '../search/review.js';
import { loadModel, type Model } from '../model/load.js';
import { ModelSwitch } from './model-switch.js';
import { Authenticator } from './auth.js';
import { cors } from './cors.js';
import { errorHandler, forwardTo, jsonBody, routeLabel, sendError } from './http.js';
import { Metrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { addQuestionRoute } from './routes/add-question.js';
import { bulkQuestionsRoute } from './routes/bulk-questions.js';
import type { RouteContext } from './routes/context.js';
import { duplicatesRoute } from './routes/duplicates.js';
import { feedbackRoute } from './routes/feedback.js';
import { getQuestionRoute } from './routes/get-question.js';
import { healthRoute } from './routes/health.js';
import { listQuestionsRoute } from './routes/list-questions.js';
import { metricsRoute } from './routes/metrics.js';
import { modelRoute } from './routes/model.js';
import { modelActivateRoute } from './routes/model-activate.js';
import { modelRollbackRoute } from './routes/model-rollback.js';
import { openApiRoute } from './routes/openapi.js';
import { patchQuestionRoute } from './routes/patch-question.js';
import { putQuestionRoute } from './routes/put-question.js';
import { removeQuestionRoute } from './routes/remove-question.js';
import { reviewDecisionRoute } from './routes/review-decision.js';
import { reviewPageRoute } from './routes/review-page.js';
import { reviewQueueRoute } from './routes/review-queue.js';
import { similarityRoute } from './routes/similarity.js';
import { suggestRoute } from './routes/suggest.js';
import { webRoute } from './routes/web.js';
import { widgetRoute } from './routes/widget.js';

export interface ServiceOptions {
  /** The bootstrap admin key (DOPPEL_API_KEY): when set, writes need a key. */
  apiKey?: string;
  /** The store's API keys (auth.ts): once it has any, writes need a key. */
  keys?: ApiKeyStore;
  /** The store's review queue: checks and additions the model is unsure of are queued for moderators. */
  review?: ReviewQueue;
  /** How `model activate` loads a model directory (default: loadModel with the process's runtime). */
  loadModel?: (dir: string) => Promise<Model>;
  /** A server of `serve --workers`: no model activation (each worker holds its own model). */
  workers?: boolean;
  /** Reads need a key too. */
  requireKey?: boolean;
  /** /metrics needs an admin key. */
  protectMetrics?: boolean;
  /** Browser origins allowed to call the API (CORS); none by default. */
  corsOrigins?: string[];
  /** Requests per second and burst per client address; undefined turns limiting off. */
  rateLimit?: { rate: number; burst: number };
  maxBodyBytes?: number;
  /** Most characters (keys plus cached JSON) the suggestion cache holds; default 8 M (about 16 MB). */
  suggestCacheChars?: number;
  /**
   * The writer process's private socket, in a read-only worker of `serve --workers`: writes
   * are forwarded there as they came (the store has one writer), reads are answered here.
   */
  writer?: string;
  /** Milliseconds a forwarded write may take before the client is answered 503. Default 30 000. */
  forwardTimeoutMs?: number;
  /** Which matches are called duplicates unless a request says otherwise (default DEFAULT_OPERATING_POINT). */
  operatingPoint?: OperatingPointName;
  /** Bounds on the requests that encode and search (default DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionOptions>;
  logger: Logger;
  version: string;
}

/** Connections to a writer's private listener, which only the workers of `serve --workers` reach. */
export const forwardedSockets = new WeakSet<object>();

/** Every route, in the order they are matched; each file under routes/ is one. */
const ROUTES = [
  duplicatesRoute,
  bulkQuestionsRoute,
  listQuestionsRoute,
  addQuestionRoute,
  getQuestionRoute,
  putQuestionRoute,
  patchQuestionRoute,
  removeQuestionRoute,
  similarityRoute,
  suggestRoute,
  feedbackRoute,
  reviewQueueRoute,
  reviewDecisionRoute,
  modelRoute,
  modelActivateRoute,
  modelRollbackRoute,
  healthRoute,
  metricsRoute,
  openApiRoute,
  widgetRoute,
  reviewPageRoute,
  webRoute,
];

/** The HTTP API and the web page over one open duplicate index. */
export function createApp(index: DuplicateIndex, options: ServiceOptions) {
  const app = express();
  const log = options.logger;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  let admission: Admission | undefined;
  const metrics = new Metrics({
    queued: () => admission?.queued ?? 0,
    index: async () => {
      const s = await index.stats();
      return { indexed: s.indexed, deleted: s.deleted, feedback: s.feedback };
    },
    model: () => ({ model: index.model.id, energy: index.model.files.config.energy, encoder: index.model.encoder.runtime }),
    activation: () => modelSwitch.status,
  });
  // One process holds the store's model (with --workers the readers hold their own): activation runs in a single-process server.
  const modelSwitch = new ModelSwitch(index, { load: options.loadModel ?? ((dir) => loadModel(dir, { log: (m) => log.info(m) })), log });
  index.observeStages((stage, seconds) => metrics.stage(stage, seconds));
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
  app.disable('x-powered-by');
  app.set('etag', false);
  if (options.corsOrigins?.length) app.use(cors(options.corsOrigins));

  app.use((req, res, next) => {
    const started = performance.now();
    arrivals.set(req, started);
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      // Labels come only from routes the app declares (never from the raw path), so requests
      // to made-up paths all land in one series and /metrics stays the same size.
      metrics.observe(req.method, routeLabel(req, res), res.statusCode, seconds);
      if (res.locals.serialiseSeconds !== undefined) metrics.stage('serialise', res.locals.serialiseSeconds as number);
      log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, 'request');
    });
    next();
  });

  if (options.rateLimit) {
    const limiter = new RateLimiter(options.rateLimit.rate, options.rateLimit.burst);
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

  // A read-only worker sends every write to the writer before any route of its own sees it.
  if (options.writer) {
    const forward = forwardTo(options.writer, options.forwardTimeoutMs ?? 30_000, log);
    app.post('/v1/questions', forward);
    app.post('/v1/questions/bulk', forward);
    app.put('/v1/questions/:id', forward);
    app.patch('/v1/questions/:id', forward);
    app.delete('/v1/questions/:id', forward);
    app.post('/v1/feedback', forward);
  }
  // Per route, in this order: the key (writes only), then the content type, then the body. An
  // unauthenticated write is refused before its body is read.
  const authenticator = new Authenticator({ bootstrapKey: options.apiKey, keys: options.keys, requireKey: options.requireKey, metrics });
  const context: RouteContext = {
    index,
    get model() {
      return index.model;
    },
    modelSwitch: options.workers || options.writer ? undefined : modelSwitch,
    metrics,
    log,
    admit: (req, work) => admission!.run(work, arrivals.get(req)),
    authorize: (scope) => authenticator.require(scope),
    protectMetrics: Boolean(options.protectMetrics),
    jsonBody: jsonBody(maxBodyBytes),
    version: options.version,
    suggestCacheChars: options.suggestCacheChars ?? 8_000_000,
    operatingPoint: options.operatingPoint ?? DEFAULT_OPERATING_POINT,
    review: options.review,
    queueReview: (a, best) => {
      const { review } = options;
      const model = index.model;
      // Unsure (at or above the recall point) or flagged, by the server's own decision: a caller's
      // minProbability must not push pairs into the moderators' queue. Ordered around that decision.
      const threshold = model.decision().threshold;
      if (!review || !best || (a.id !== null && a.id === best.id)) return;
      if (best.probability < Math.min(model.operatingPoints.recall.threshold, threshold)) return;
      // After the answer: a store's write lock held by another process must not delay it.
      setImmediate(() => {
        review.enqueue([{ a, b: { id: best.id, text: best.text }, probability: best.probability, threshold }]).catch((err: Error) => log.warn({ err: err.message }, 'could not queue a pair for review'));
      });
    },
  };
  // Every /v1 request runs under one model (a bulk upload, which may stream for minutes, writes
  // batch by batch, and a batch encoded before a switch is refused and reported per line).
  app.use('/v1', (req, res, next) => (req.path === '/questions/bulk' ? next() : modelSwitch.middleware(req, res, next)));
  for (const route of ROUTES) route(app, context);

  app.use((req, res) => sendError(res, 'NOT_FOUND', `no route ${req.method} ${req.path.slice(0, 200)}`));
  app.use(errorHandler(maxBodyBytes, log));
  return { app, metrics, modelSwitch };
}
