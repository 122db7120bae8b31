import type { Express } from 'express';
import type { RouteContext } from './context.js';

/** GET /metrics: Prometheus text. */
export function metricsRoute(app: Express, { metrics }: RouteContext): void {
  app.get('/metrics', async (_req, res) => {
    const text = await metrics.render();
    res.type(metrics.contentType).send(text);
  });
}
