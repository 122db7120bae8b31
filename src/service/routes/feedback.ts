import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { FeedbackBody, FeedbackCreated } from '../schemas.js';
import type { RouteContext } from './context.js';

/** POST /v1/feedback: a moderator's verdict on a pair, kept for training. */
export function feedbackRoute(app: Express, { index, authorize, jsonBody }: RouteContext): void {
  app.post('/v1/feedback', authorize('write'), jsonBody, async (req: Request, res: Response) => {
    send(res, 201, FeedbackCreated, { id: await index.feedback(parse(FeedbackBody, req.body)) });
  });
}
