import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { DecisionChoice, Model, PairExplanation } from '../../model/load.js';
import type { KeyScope } from '../../search/api-keys.js';
import type { Hit, StoredQuestion } from '../../search/backend.js';
import type { ReviewQueue, ReviewSide } from '../../search/review.js';
import type { DuplicateIndex } from '../../search/stores.js';
import type { Metrics } from '../metrics.js';
import type { ModelSwitch } from '../model-switch.js';
import type { OperatingPointName } from '../../verdict/operating-points.js';
import type { Explanation, Match, Question } from '../schemas.js';

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/** What every route is given by createApp: the index and model, and the service's shared parts. */
export interface RouteContext {
  index: DuplicateIndex;
  /** The model serving now: read it inside a handler (a request runs under one model, see ModelSwitch). */
  readonly model: Model;
  metrics: Metrics;
  log: Logger;
  /** Runs encoding and searching work under the admission bounds (queue, deadline from arrival). */
  admit<T>(req: Request, work: () => Promise<T>): Promise<T>;
  /** The key check of a route: what the request must be allowed to do (see auth.ts). */
  authorize(scope: KeyScope): Middleware;
  /** /metrics needs an admin key (serve --protect-metrics). */
  protectMetrics: boolean;
  /** The content-type check and body parser of routes with a JSON body. */
  jsonBody: Middleware[];
  /** The OpenAPI document's version. */
  version: string;
  suggestCacheChars: number;
  /** The server's default operating point (serve --operating-point). */
  operatingPoint: OperatingPointName;
  /** Puts another model into service (absent in a server of serve --workers). */
  modelSwitch?: ModelSwitch;
  /** The store's review queue (absent: no review routes). */
  review?: ReviewQueue;
  /** Queues a checked or added text and its best match when the model is unsure of them (or flags them); never delays the answer. */
  queueReview(a: ReviewSide, best: Hit | undefined): void;
}

/** With explain: true, how many of the best matches carry an explanation. */
export const EXPLAINED_MATCHES = 5;

export const explanation = (e: PairExplanation): z.output<typeof Explanation> => ({ summary: e.summary, alignment: e.alignment, reasons: e.reasons, baseline: e.baseline, rule: e.rule });

/** A request's choice of decision: its own minimum probability, else its operating point, else the server's. */
export const choiceOf = (request: DecisionChoice, ctx: RouteContext): DecisionChoice => ({ minProbability: request.minProbability, operatingPoint: request.operatingPoint ?? ctx.operatingPoint });
export const match = (h: Hit): z.output<typeof Match> => ({ id: h.id, text: h.text, category: h.category, url: h.url, metadata: h.metadata, energy: h.energy, probability: h.probability, isDuplicate: h.isDuplicate });
export const question = (q: StoredQuestion): z.output<typeof Question> => ({ id: q.id, text: q.text, category: q.category, url: q.url, metadata: q.metadata, createdAt: q.createdAt });
