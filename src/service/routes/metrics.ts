import type { Express } from 'express';
import type { RouteContext } from './context.js';

/** GET /metrics: Prometheus text. */
export function metricsRoute(app: Express, { metrics, authorize, protectMetrics }: RouteContext): void {
  const guard = protectMetrics ? [authorize('admin')] : [];
  app.get('/metrics', ...guard, async (_req, res) => {
    const text = await metrics.render();
    res.type(metrics.contentType).send(text);
  });
}
