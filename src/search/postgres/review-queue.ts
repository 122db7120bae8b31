import { DoppelError } from '../../errors.js';
import {
  agreedSql,
  emptyDecided,
  REVIEW_QUEUE_LIMIT,
  type ReviewCandidate,
  type ReviewDecision,
  type ReviewItem,
  type ReviewPage,
  type ReviewQueue,
  type ReviewRow,
  reviewFoldKey,
  reviewPriority,
  toReviewItem,
} from '../review.js';
import type { Database } from './connection.js';

type Row = ReviewRow<string, Date>;
const toItem = (r: Row) => toReviewItem(r, (t) => t.toISOString());

/**
 * The review queue of a PostgreSQL store (table doppel_review, schema version 3), shared by every
 * replica; all of it on the primary, since a moderator's decision must be seen by the next page.
 */
export class PostgresReviewQueue implements ReviewQueue {
  constructor(
    private readonly db: Database,
    private readonly limit = REVIEW_QUEUE_LIMIT,
  ) {}

  /**
   * Single statements, no transaction: a pair is inserted, or folded into its pending near-copy
   * (a decided one is left as it is), then the least informative pending pairs past the bound are
   * dropped, the new one too if it is the least informative. Replicas queue concurrently; the
   * bound may be passed by a pair or two between the two statements, never for long.
   */
  async enqueue(candidates: ReviewCandidate[]): Promise<number> {
    if (candidates.length === 0) return 0;
    const inserted = await this.db.query<{ id: string; fresh: boolean }>(
      `INSERT INTO doppel_review (fold_key, a_id, a_text, b_id, b_text, probability, threshold, priority)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[])
       ON CONFLICT (fold_key) DO UPDATE SET copies = doppel_review.copies + 1, probability = excluded.probability, threshold = excluded.threshold, priority = excluded.priority
         WHERE doppel_review.status = 'pending'
       RETURNING id, (xmax = 0) AS fresh`,
      [
        candidates.map((c) => reviewFoldKey(c.a.text, c.b.text)),
        candidates.map((c) => c.a.id),
        candidates.map((c) => c.a.text),
        candidates.map((c) => c.b.id),
        candidates.map((c) => c.b.text),
        candidates.map((c) => c.probability),
        candidates.map((c) => c.threshold),
        candidates.map((c) => reviewPriority(c.probability, c.threshold)),
      ],
    );
    const dropped = await this.db.query<{ id: string }>(
      "DELETE FROM doppel_review WHERE id IN (SELECT id FROM doppel_review WHERE status = 'pending' ORDER BY priority, id OFFSET $1) RETURNING id",
      [this.limit],
    );
    const gone = new Set(dropped.map((r) => r.id));
    return inserted.filter((r) => r.fresh && !gone.has(r.id)).length;
  }

  async page(limit: number): Promise<ReviewPage> {
    const items = (await this.db.query<Row>("SELECT * FROM doppel_review WHERE status = 'pending' ORDER BY priority, id LIMIT $1", [limit])).map(toItem);
    const decided = emptyDecided();
    let pending = 0;
    for (const r of await this.db.query<{ status: ReviewItem['status']; n: string }>('SELECT status, count(*) AS n FROM doppel_review GROUP BY status')) {
      if (r.status === 'pending') pending = Number(r.n);
      else decided[r.status] = Number(r.n);
    }
    const [{ n: agreed }] = await this.db.query<{ n: string }>(agreedSql('doppel_review'));
    return { items, pending, decided, agreed: Number(agreed) };
  }

  /** One statement: the item closed and its feedback written together, or neither. */
  async decide(id: number, decision: ReviewDecision, reviewer: string): Promise<ReviewItem> {
    const [row] = await this.db.query<Row>(
      `WITH item AS (SELECT * FROM doppel_review WHERE id = $1 AND status = 'pending' FOR UPDATE),
       kept AS (
         INSERT INTO doppel_feedback (a_text, b_text, a_id, b_id, is_duplicate, reviewer)
         SELECT a_text, b_text, a_id, b_id, $2 = 'duplicate', $3 FROM item WHERE $2 <> 'skip' RETURNING id
       )
       UPDATE doppel_review r SET status = $2, reviewer = $3, decided_at = now(), feedback_id = (SELECT id FROM kept)
       FROM item WHERE r.id = item.id RETURNING r.*`,
      [id, decision, reviewer],
    );
    if (row) return toItem(row);
    const [known] = await this.db.query<Row>('SELECT * FROM doppel_review WHERE id = $1', [id]);
    if (!known) throw new DoppelError('NOT_FOUND', `no review item ${id}`);
    throw new DoppelError('CONFLICT', `review item ${id} was decided already (${known.status}, by ${known.reviewer ?? 'unknown'})`);
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
