import type { Express } from 'express';
import type { z } from 'zod';
import { LruCache } from '../../util/lru-cache.js';
import { parse, send, utf8Query } from '../http.js';
import { SuggestQuery, SuggestResponse } from '../schemas.js';
import { choiceOf, match, type RouteContext } from './context.js';

/** GET /v1/suggest?q=: similar questions while a title is typed (the last word is a prefix). */
export function suggestRoute(app: Express, ctx: RouteContext): void {
  const { index, admit, authorize, metrics, suggestCacheChars } = ctx;
  // Cached as JSON text, so the cache is bounded by characters as well as by entries.
  const cache = new LruCache<string>(5000, { maxWeight: suggestCacheChars, weigh: (key, json) => key.length + json.length });
  // Suggestions are cached for one store generation: any write, by any process, empties the cache.
  let cachedGeneration = index.generation;
  app.get('/v1/suggest', authorize('search'), utf8Query, async (req, res) => {
    const query = parse(SuggestQuery, req.query);
    const q = query.q.replace(/\s+/g, ' ').trimStart();
    const k = query.k ?? 5;
    const choice = choiceOf(query, ctx);
    const decision = ctx.model.decisionFor(q, choice);
    if (q.trim().length < 2) return send(res, 200, SuggestResponse, { suggestions: [], decision });
    const key = `${k}|${query.category ?? ''}|${decision.operatingPoint}|${decision.threshold}|${q.toLowerCase()}`;
    const generation = index.generation;
    if (generation !== cachedGeneration) {
      cache.clear();
      cachedGeneration = generation;
    }
    let payload = generation === undefined ? undefined : cache.get(key);
    metrics.suggestion(payload !== undefined);
    if (payload === undefined) {
      const hits = await admit(req, () => index.search(q, { k, mode: 'hybrid', category: query.category, prefix: true, decision: choice }));
      const body: z.output<typeof SuggestResponse> = { suggestions: hits.map(match), decision };
      payload = JSON.stringify(body);
      // A write committed while this search ran would make the answer stale under the new generation.
      if (generation !== undefined && index.generation === generation) cache.set(key, payload);
    }
    res.type('application/json').send(payload);
  });
}
