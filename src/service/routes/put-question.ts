import type { Express, Request, Response } from 'express';
import { DoppelError } from '../../errors.js';
import { parse, send } from '../http.js';
import { QuestionParams, QuestionReplaceBody, QuestionStored } from '../schemas.js';
import { question, type RouteContext } from './context.js';

/** PUT /v1/questions/:id: stores the question under its id, creating or replacing it whole (re-encoded only when the text changed). */
export function putQuestionRoute(app: Express, { index, admit, authorize, jsonBody }: RouteContext): void {
  app.put('/v1/questions/:id', authorize('write'), jsonBody, async (req: Request, res: Response) => {
    const { id } = parse(QuestionParams, req.params);
    const body = parse(QuestionReplaceBody, req.body);
    const [outcome] = await admit(req, () => index.upsert([{ id, ...body }]));
    if ('error' in outcome) throw new DoppelError(outcome.error.code, outcome.error.message);
    if (!('question' in outcome)) throw new DoppelError('INTERNAL', 'a single question was superseded');
    send(res, outcome.result === 'created' ? 201 : 200, QuestionStored, { result: outcome.result, question: question(outcome.question) });
  });
}
