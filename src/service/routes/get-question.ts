import type { Express } from 'express';
import { DoppelError } from '../../errors.js';
import { parse, send } from '../http.js';
import { Question, QuestionParams } from '../schemas.js';
import { question, type RouteContext } from './context.js';

/** GET /v1/questions/:id: a stored question. */
export function getQuestionRoute(app: Express, { index, authorize }: RouteContext): void {
  app.get('/v1/questions/:id', authorize('search'), async (req, res) => {
    const { id } = parse(QuestionParams, req.params);
    const q = await index.get(id);
    if (!q) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
    send(res, 200, Question, question(q));
  });
}
