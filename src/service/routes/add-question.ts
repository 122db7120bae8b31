import type { Express, Request, Response } from 'express';
import { parse, send } from '../http.js';
import { QuestionBody, QuestionCreated } from '../schemas.js';
import { choiceOf, match, type RouteContext } from './context.js';

/** POST /v1/questions: stores a question, answering with the stored ones it duplicates. */
export function addQuestionRoute(app: Express, ctx: RouteContext): void {
  const { index, admit, authorize, jsonBody } = ctx;
  app.post('/v1/questions', authorize('write'), jsonBody, async (req: Request, res: Response) => {
    const body = parse(QuestionBody, req.body);
    const choice = choiceOf(body, ctx);
    const { question, duplicates, nearest } = await admit(req, () => index.addIfNew({ id: body.id, text: body.text, category: body.category, url: body.url, metadata: body.metadata }, { decision: choice }));
    send(res, 201, QuestionCreated, { id: question.id, duplicates: duplicates.map(match), decision: ctx.model.decisionFor(body.text, choice) });
    ctx.queueReview({ id: question.id, text: question.text }, nearest);
  });
}
