/**
 * Who may do what: API keys with a scope (search < write < admin), an optional browser origin
 * and rate, kept hashed in the store (search/api-keys.ts), plus DOPPEL_API_KEY as the bootstrap
 * admin key. Writes need a key once the server has DOPPEL_API_KEY or its store has ever had a
 * key; reads need one with `--require-key`, and a key that is sent is always checked (a revoked
 * or unknown key is refused at once: each request reads the store, by the key's hash).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { DoppelError } from '../errors.js';
import { type ApiKeyRecord, type ApiKeyStore, KEY_SCOPES, type KeyScope } from '../search/api-keys.js';
import type { Metrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The hash a store keeps of a key. */
export const keyHash = (key: string) => sha256(key).toString('hex');

/** A new key: its secret (shown once), its id and the hash to store. 192 random bits. */
export function newKey(scope: KeyScope): { key: string; id: string; hash: string } {
  const key = `dpl_${scope}_${randomBytes(24).toString('base64url')}`;
  return { key, id: `key_${randomBytes(6).toString('hex')}`, hash: keyHash(key) };
}

const rank = (scope: KeyScope) => KEY_SCOPES.indexOf(scope);

export interface AuthOptions {
  /** DOPPEL_API_KEY: an admin key that lives outside the store. */
  bootstrapKey?: string;
  keys?: ApiKeyStore;
  /** Reads need a key too (`serve --require-key`). */
  requireKey?: boolean;
  metrics: Metrics;
}

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

export class Authenticator {
  private readonly bootstrap?: Buffer;
  /** Once the store has a key it always has one (revoked keys stay listed): cached when true. */
  private keyed = false;
  /** Buckets of the keys that have a rate (each asks for its own; 1 is never used). */
  private readonly limiter = new RateLimiter(1, 2);

  constructor(private readonly options: AuthOptions) {
    this.bootstrap = options.bootstrapKey ? sha256(options.bootstrapKey) : undefined;
  }

  /** Whether requests that need `write` must bring a key. */
  private async enforced(): Promise<boolean> {
    if (this.bootstrap || this.keyed) return true;
    this.keyed = (await this.options.keys?.any()) ?? false;
    return this.keyed;
  }

  /** The key a request brings: undefined for none; UNAUTHORIZED for one that is not (or no longer) valid. */
  private async identify(req: Request): Promise<ApiKeyRecord | undefined> {
    const header = req.get('authorization');
    // Only Bearer credentials are Doppel's: a proxy's own (Basic, say) are no key at all.
    const bearer = header === undefined ? null : /^bearer(?:[ \t]+(.*))?$/is.exec(header);
    if (!bearer) return undefined;
    const given = (bearer[1] ?? '').trim();
    // The bootstrap key is compared in constant time; a stored key is found by its hash.
    if (this.bootstrap && timingSafeEqual(sha256(given), this.bootstrap)) {
      return { id: 'bootstrap', name: 'DOPPEL_API_KEY', scope: 'admin', origin: null, rate: null, createdAt: '', revokedAt: null };
    }
    const record = given ? await this.options.keys?.find(keyHash(given)) : undefined;
    if (!record) throw new DoppelError('UNAUTHORIZED', 'this API key is not valid (unknown or revoked); send Authorization: Bearer <key>');
    return record;
  }

  /**
   * Middleware that lets a request through when it may do `scope`. Attached to each route, so the
   * decision follows Express's own routing rather than a second reading of the path.
   */
  require(scope: KeyScope): Middleware {
    return (req, res, next) => {
      this.check(req, res, scope).then(() => next(), next);
    };
  }

  private async check(req: Request, res: Response, scope: KeyScope): Promise<void> {
    const needed = scope === 'search' ? Boolean(this.options.requireKey) : await this.enforced();
    let key: ApiKeyRecord | undefined;
    try {
      key = await this.identify(req);
    } catch (err) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="doppel"');
      throw err;
    }
    if (!key) {
      if (!needed) return;
      res.setHeader('WWW-Authenticate', 'Bearer realm="doppel"');
      throw new DoppelError('UNAUTHORIZED', `this request needs a key with scope ${scope}: send Authorization: Bearer <key>`);
    }
    const { metrics } = this.options;
    if (rank(key.scope) < rank(scope)) {
      metrics.keyRequest(key.name, 'forbidden');
      throw new DoppelError('FORBIDDEN', `the key '${key.name}' has scope ${key.scope}: this request needs ${scope}`);
    }
    if (key.origin !== null && req.get('origin') !== key.origin) {
      metrics.keyRequest(key.name, 'forbidden');
      throw new DoppelError('FORBIDDEN', `the key '${key.name}' may be used only from ${key.origin}`);
    }
    if (key.rate !== null) {
      const wait = this.limiter.take(`key:${key.id}`, performance.now(), key.rate);
      if (wait > 0) {
        metrics.keyRequest(key.name, 'rate_limited');
        res.setHeader('Retry-After', String(Math.ceil(wait)));
        throw new DoppelError('RATE_LIMITED', `the key '${key.name}' may make ${key.rate} requests a second; slow down`);
      }
    }
    metrics.keyRequest(key.name, 'allowed');
    // Who made the request, for what it records (a review decision).
    res.locals.keyName = key.name;
  }
}
