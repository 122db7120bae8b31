import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import type { RouteContext } from './context.js';
import { WEB_DIR } from './web.js';

/** The compiled typed client (src/client), which the widget imports from the same server. */
const CLIENT = resolve(dirname(fileURLToPath(import.meta.url)), '../../client/index.js');

/**
 * GET /widget.js and GET /client.js: the embeddable "similar questions" widget and the client it
 * loads. A forum's page includes them from another origin with a plain <script>, which needs no
 * CORS; cached an hour, as the page's own assets are.
 */
export function widgetRoute(app: Express, _ctx: RouteContext): void {
  const script = (file: string) => (_req: unknown, res: import('express').Response) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    // Cross-origin module import (client.js from widget.js) needs CORS on the module itself.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.type('application/javascript').sendFile(file);
  };
  app.get('/widget.js', script(join(WEB_DIR, 'widget.js')));
  app.get('/client.js', script(CLIENT));
}
