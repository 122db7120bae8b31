import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { DuplicatesBody, DuplicatesResponse } from '../schemas.js';
import { choiceOf, EXPLAINED_MATCHES, explanation, match, type RouteContext } from './context.js';

/** POST /v1/duplicates: is this text a duplicate of a stored question, and of which. */
export function duplicatesRoute(app: Express, ctx: RouteContext): void {
  const { index, admit, authorize, jsonBody } = ctx;
  app.post('/v1/duplicates', authorize('search'), jsonBody, async (req: Request, res: Response) => {
    const body = parse(DuplicatesBody, req.body);
    const choice = choiceOf(body, ctx);
    const { hits, matches } = await admit(req, async () => {
      const found = await index.search(body.text, { k: body.k ?? 5, mode: body.mode ?? 'hybrid', category: body.category, decision: choice });
      // An explanation runs the encoder again for the pair (the text as the search read it): the first few matches are the ones read.
      const [read] = body.explain ? await index.mend([body.text]) : [body.text];
      const explained = await Promise.all(found.map(async (h, i) => (body.explain && i < EXPLAINED_MATCHES ? { ...match(h), explanation: explanation(await ctx.model.explainPair(read, h.text, choice)) } : match(h))));
      return { hits: found, matches: explained };
    });
    send(res, 200, DuplicatesResponse, { isDuplicate: hits.some((h) => h.isDuplicate), decision: ctx.model.decisionFor(body.text, choice), matches });
    ctx.queueReview({ id: null, text: body.text }, hits[0]);
  });
}
