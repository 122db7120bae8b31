import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { Question, QuestionParams, QuestionPatchBody } from '../schemas.js';
import { question, type RouteContext } from './context.js';

/** PATCH /v1/questions/:id: a stored question's category, url or metadata; nothing is encoded. */
export function patchQuestionRoute(app: Express, { index, authorize, jsonBody }: RouteContext): void {
  app.patch('/v1/questions/:id', authorize('write'), jsonBody, async (req: Request, res: Response) => {
    const { id } = parse(QuestionParams, req.params);
    send(res, 200, Question, question(await index.patch(id, parse(QuestionPatchBody, req.body))));
  });
}
