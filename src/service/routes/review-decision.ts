import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { ReviewDecisionBody, ReviewItem, ReviewParams } from '../schemas.js';
import type { RouteContext } from './context.js';

/** POST /v1/review/:id: a moderator's decision on a queued pair, kept as feedback under the key's name. */
export function reviewDecisionRoute(app: Express, { review, authorize, jsonBody }: RouteContext): void {
  if (!review) return;
  const queue = review;
  app.post('/v1/review/:id', authorize('admin'), jsonBody, async (req: Request, res: Response) => {
    const { id } = parse(ReviewParams, req.params);
    const { decision } = parse(ReviewDecisionBody, req.body);
    // A server without keys (a loopback demo) has nobody to name.
    const reviewer = typeof res.locals.keyName === 'string' ? res.locals.keyName : 'anonymous';
    send(res, 200, ReviewItem, await queue.decide(id, decision, reviewer));
  });
}
