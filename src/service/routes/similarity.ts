import type { Express, Request, Response } from 'express';
import type { PairExplanation } from '../../model/load.js';
import { parse, send } from '../http.js';
import { SimilarityBody, SimilarityResponse } from '../schemas.js';
import { choiceOf, explanation, type RouteContext } from './context.js';

/** POST /v1/similarity: the verdict on two texts, optionally with its reasons. */
export function similarityRoute(app: Express, ctx: RouteContext): void {
  const { index, admit, authorize, jsonBody } = ctx;
  app.post('/v1/similarity', authorize('search'), jsonBody, async (req: Request, res: Response) => {
    const body = parse(SimilarityBody, req.body);
    const choice = choiceOf(body, ctx);
    // Read as a search reads a text (slips mended), so a pair gets the probability its search hit had.
    const scored = await admit(req, async () => {
      const [a, b] = await index.mend([body.a, body.b]);
      return body.explain ? ctx.model.explainPair(a, b, choice) : ctx.model.scorePair(a, b, choice);
    });
    const { energy, probability, isDuplicate, decision } = scored;
    send(res, 200, SimilarityResponse, { energy, probability, isDuplicate, decision, ...(body.explain ? { explanation: explanation(scored as PairExplanation) } : {}) });
  });
}
