import type pg from 'pg';
import { DoppelError } from '../../errors.js';
import { emptyDecided, REVIEW_QUEUE_LIMIT, type ReviewCandidate, type ReviewDecision, type ReviewItem, type ReviewPage, type ReviewQueue, reviewFoldKey, reviewPriority, agreedSql } from '../review.js';
import type { Database } from './connection.js';

interface ReviewRow {
  id: string;
  a_id: string | null;
  a_text: string;
  b_id: string | null;
  b_text: string;
  probability: number;
  priority: number;
  copies: number;
  status: ReviewItem['status'];
  reviewer: string | null;
  decided_at: Date | null;
  feedback_id: string | null;
  created_at: Date;
}

const toItem = (r: ReviewRow): ReviewItem => ({
  id: Number(r.id),
  a: { id: r.a_id, text: r.a_text },
  b: { id: r.b_id, text: r.b_text },
  probability: r.probability,
  priority: r.priority,
  copies: r.copies,
  createdAt: r.created_at.toISOString(),
  status: r.status,
  reviewer: r.reviewer,
  decidedAt: r.decided_at?.toISOString() ?? null,
  feedbackId: r.feedback_id === null ? null : Number(r.feedback_id),
});

/**
 * The review queue of a PostgreSQL store (table doppel_review, schema version 3), shared by every
 * replica; all of it on the primary, since a moderator's decision must be seen by the next page.
 */
export class PostgresReviewQueue implements ReviewQueue {
  constructor(
    private readonly db: Database,
    private readonly limit = REVIEW_QUEUE_LIMIT,
  ) {}

  async enqueue(candidates: ReviewCandidate[]): Promise<number> {
    if (candidates.length === 0) return 0;
    return this.db.transaction(async (client) => {
      // One queue, many replicas: the bound is kept under a lock that only queueing takes.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('doppel_review'))");
      let queued = 0;
      for (const c of candidates) {
        const key = reviewFoldKey(c.a.text, c.b.text);
        const priority = reviewPriority(c.probability, c.threshold);
        const known = await client.query<{ id: string }>('SELECT id FROM doppel_review WHERE fold_key = $1', [key]);
        if (known.rows.length > 0) {
          await client.query("UPDATE doppel_review SET copies = copies + 1, probability = $1, threshold = $2, priority = $3 WHERE id = $4 AND status = 'pending'", [c.probability, c.threshold, priority, known.rows[0].id]);
          continue;
        }
        if (!(await this.makeRoom(client, priority))) continue;
        await client.query('INSERT INTO doppel_review (fold_key, a_id, a_text, b_id, b_text, probability, threshold, priority) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          key,
          c.a.id,
          c.a.text,
          c.b.id,
          c.b.text,
          c.probability,
          c.threshold,
          priority,
        ]);
        queued++;
      }
      return queued;
    });
  }

  /** Whether a pair of this priority fits: below the bound, or by dropping a less informative pending pair. */
  private async makeRoom(client: pg.PoolClient, priority: number): Promise<boolean> {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM doppel_review WHERE status = 'pending'");
    if (Number(rows[0].n) < this.limit) return true;
    const worst = await client.query<{ id: string; priority: number }>("SELECT id, priority FROM doppel_review WHERE status = 'pending' ORDER BY priority DESC, id DESC LIMIT 1");
    if (worst.rows[0].priority <= priority) return false;
    await client.query('DELETE FROM doppel_review WHERE id = $1', [worst.rows[0].id]);
    return true;
  }

  async page(limit: number): Promise<ReviewPage> {
    const items = (await this.db.query<ReviewRow>("SELECT * FROM doppel_review WHERE status = 'pending' ORDER BY priority, id LIMIT $1", [limit])).map(toItem);
    const decided = emptyDecided();
    let pending = 0;
    for (const r of await this.db.query<{ status: ReviewItem['status']; n: string }>('SELECT status, count(*) AS n FROM doppel_review GROUP BY status')) {
      if (r.status === 'pending') pending = Number(r.n);
      else decided[r.status] = Number(r.n);
    }
    const [{ n: agreed }] = await this.db.query<{ n: string }>(agreedSql('doppel_review'));
    return { items, pending, decided, agreed: Number(agreed) };
  }

  async decide(id: number, decision: ReviewDecision, reviewer: string): Promise<ReviewItem> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<ReviewRow>('SELECT * FROM doppel_review WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row) throw new DoppelError('NOT_FOUND', `no review item ${id}`);
      if (row.status !== 'pending') throw new DoppelError('CONFLICT', `review item ${id} was decided already (${row.status}, by ${row.reviewer ?? 'unknown'})`);
      let feedbackId: string | null = null;
      if (decision !== 'skip') {
        const inserted = await client.query<{ id: string }>('INSERT INTO doppel_feedback (a_text, b_text, a_id, b_id, is_duplicate, reviewer) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', [
          row.a_text,
          row.b_text,
          row.a_id,
          row.b_id,
          decision === 'duplicate',
          reviewer,
        ]);
        feedbackId = inserted.rows[0].id;
      }
      const updated = await client.query<ReviewRow>('UPDATE doppel_review SET status = $1, reviewer = $2, decided_at = now(), feedback_id = $3 WHERE id = $4 RETURNING *', [decision, reviewer, feedbackId, id]);
      return toItem(updated.rows[0]);
    });
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
