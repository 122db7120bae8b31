import type { Express } from 'express';
import { parse, send, utf8Query } from '../http.js';
import { ListQuery, QuestionList } from '../schemas.js';
import { question, type RouteContext } from './context.js';

/**
 * GET /v1/questions?after=&limit=: every live question, a page at a time in id order, for a
 * forum's sync. A write key: the whole store is more than a search key (in a browser) may read.
 */
export function listQuestionsRoute(app: Express, { index, authorize }: RouteContext): void {
  app.get('/v1/questions', authorize('write'), utf8Query, async (req, res) => {
    const query = parse(ListQuery, req.query);
    const page = await index.list({ after: query.after, limit: query.limit ?? 100 });
    send(res, 200, QuestionList, { questions: page.questions.map(question), next: page.next });
  });
}
