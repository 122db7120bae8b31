import type { Express } from 'express';
import { send } from '../http.js';
import { Health } from '../schemas.js';
import type { RouteContext } from './context.js';

/** GET /healthz: up, with the question count and the model serving. */
export function healthRoute(app: Express, ctx: RouteContext): void {
  const { index } = ctx;
  app.get('/healthz', async (_req, res) => {
    send(res, 200, Health, { status: 'ok', questions: (await index.stats()).indexed, model: ctx.model.id, encoder: ctx.model.encoder.runtime });
  });
}
