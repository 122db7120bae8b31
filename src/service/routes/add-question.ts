import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { QuestionBody, QuestionCreated } from '../schemas.js';
import { match, type RouteContext } from './context.js';

/** POST /v1/questions: stores a question, answering with the stored ones it duplicates. */
export function addQuestionRoute(app: Express, { index, admit, auth, jsonBody }: RouteContext): void {
  app.post('/v1/questions', auth, jsonBody, async (req: Request, res: Response) => {
    const body = parse(QuestionBody, req.body);
    const { question, duplicates } = await admit(req, () => index.addIfNew({ id: body.id, text: body.text, category: body.category }));
    send(res, 201, QuestionCreated, { id: question.id, duplicates: duplicates.map(match) });
  });
}
