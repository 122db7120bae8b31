import type { Express } from 'express';
import { type FeedbackRefitRecord, readFeedbackRefit } from '../../model/model-dir.js';
import { parse, send, utf8Query } from '../http.js';
import { ReviewPage, ReviewQuery } from '../schemas.js';
import type { RouteContext } from './context.js';

const figures = (f: { accuracy: number; precision: number; recall: number }) => ({ accuracy: f.accuracy, precision: f.precision, recall: f.recall });

/**
 * GET /v1/review: the pairs the model was unsure of, the most informative first, with the counts
 * of what moderators decided and what their decisions did to the serving model (its last
 * `fit-verdict --feedback`, read once for each model that serves).
 */
export function reviewQueueRoute(app: Express, ctx: RouteContext): void {
  const { review, authorize } = ctx;
  if (!review) return;
  const queue = review;
  let refit: { dir: string; record: FeedbackRefitRecord | undefined } | undefined;
  app.get('/v1/review', authorize('admin'), utf8Query, async (req, res) => {
    const query = parse(ReviewQuery, req.query);
    const { model } = ctx;
    if (refit?.dir !== model.files.dir) refit = { dir: model.files.dir, record: readFeedbackRefit(model.files.dir) };
    const { record } = refit;
    const page = await queue.page(query.limit ?? 20);
    send(res, 200, ReviewPage, { ...page, model: { id: model.id, refit: record ? { pairs: record.pairs, createdAt: record.createdAt, before: figures(record.current), after: figures(record.refit) } : null } });
  });
}
