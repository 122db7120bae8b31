import type { Express } from 'express';
import { parse, send } from '../http.js';
import { QuestionDeleted, QuestionParams } from '../schemas.js';
import type { RouteContext } from './context.js';

/** DELETE /v1/questions/:id: removes a question (its id is never reused). */
export function removeQuestionRoute(app: Express, { index, authorize }: RouteContext): void {
  app.delete('/v1/questions/:id', authorize('write'), async (req, res) => {
    const removed = await index.remove(parse(QuestionParams, req.params).id);
    send(res, 200, QuestionDeleted, { id: removed.id, deleted: true });
  });
}
