import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import type { RouteContext } from './context.js';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src/service/web');

/** GET / and /assets/*: the web page (check a question, similar questions while typing). */
export function webRoute(app: Express, _ctx: RouteContext): void {
  app.get('/', (_req, res) => res.sendFile(join(WEB_DIR, 'index.html')));
  app.use(
    '/assets',
    (req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') res.locals.metricsRoute = '/assets';
      next();
    },
    express.static(WEB_DIR, { index: false, maxAge: '1h' }),
  );
}
