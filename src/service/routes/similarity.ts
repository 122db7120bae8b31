import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { SimilarityBody, SimilarityResponse } from '../schemas.js';
import { explanation, type RouteContext } from './context.js';

/** POST /v1/similarity: the verdict on two texts, optionally with its reasons. */
export function similarityRoute(app: Express, { model, admit, jsonBody }: RouteContext): void {
  app.post('/v1/similarity', jsonBody, async (req: Request, res: Response) => {
    const { a, b, explain } = parse(SimilarityBody, req.body);
    const scored = await admit(req, () => (explain ? model.explainPair(a, b) : model.scorePair(a, b)));
    const { energy, probability, isDuplicate, threshold, decidedBy } = scored;
    send(res, 200, SimilarityResponse, { energy, probability, isDuplicate, threshold, decidedBy, ...(explain ? { explanation: explanation(scored) } : {}) });
  });
}
