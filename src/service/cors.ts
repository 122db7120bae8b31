/**
 * Cross-origin requests from the origins a server lists (`serve --cors-origin`), so a forum's
 * page can call Doppel from the browser with a search key. An origin not on the list gets no
 * CORS headers (the browser then keeps the answer from the page) and its preflight a 403. The
 * allowed origin is echoed, never `*`, and credentials (cookies) are never allowed: keys travel
 * in the Authorization header.
 */
import type { NextFunction, Request, Response } from 'express';
import { DoppelError } from '../errors.js';
import { sendError } from './http.js';

const METHODS = 'GET, POST, PUT, PATCH, DELETE';
const HEADERS = 'Authorization, Content-Type';
/** Seconds a browser may reuse a preflight answer. */
const MAX_AGE = 600;

/** An origin as browsers send it: scheme, host and port, nothing else; INVALID_INPUT otherwise. */
export function checkOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DoppelError('INVALID_INPUT', `'${value}' is not an origin (give e.g. https://forum.example)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value) {
    throw new DoppelError('INVALID_INPUT', `'${value}' is not an origin: give the scheme, host and port only, e.g. ${url.origin === 'null' ? 'https://forum.example' : url.origin}`);
  }
  return value;
}

export function cors(origins: string[]) {
  const allowed = new Set(origins.map(checkOrigin));
  return (req: Request, res: Response, next: NextFunction) => {
    // Answers differ by Origin: a cache must keep them apart.
    res.vary('Origin');
    const origin = req.get('origin');
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (origin === undefined || !allowed.has(origin)) {
      if (preflight) return sendError(res, 'FORBIDDEN', `origin ${origin ?? '(none)'} is not allowed (serve --cors-origin)`);
      return next();
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (preflight) {
      res.setHeader('Access-Control-Allow-Methods', METHODS);
      res.setHeader('Access-Control-Allow-Headers', HEADERS);
      res.setHeader('Access-Control-Max-Age', String(MAX_AGE));
      return void res.status(204).end();
    }
    res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
    next();
  };
}
