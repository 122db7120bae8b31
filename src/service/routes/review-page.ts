import { join } from 'node:path';
import type { Express } from 'express';
import type { RouteContext } from './context.js';
import { WEB_DIR } from './web.js';

/** GET /review: the moderator page (its data comes from /v1/review with an admin key). */
export function reviewPageRoute(app: Express, { review }: RouteContext): void {
  if (!review) return;
  app.get('/review', (_req, res) => res.sendFile(join(WEB_DIR, 'review.html')));
}
