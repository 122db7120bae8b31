import type { Express } from 'express';
import { openApiDocument } from '../openapi.js';
import type { RouteContext } from './context.js';

/** GET /openapi.json: the API described, built once from the same zod schemas the routes parse with. */
export function openApiRoute(app: Express, { version }: RouteContext): void {
  const doc = openApiDocument(version);
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
}
