import Database from 'better-sqlite3';
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
import { REVIEW_TABLE } from './store.js';

type Row = ReviewRow<number, string>;
const toItem = (r: Row) => toReviewItem(r, (t) => t);

/**
 * The review queue of a directory store, in its SQLite file (table review_queue), on a connection
 * of its own without the writer's lease: every worker of `serve --workers` queues what it checks,
 * and a decision lands in the feedback table in the same transaction that closes the item.
 */
export class DirectoryReviewQueue implements ReviewQueue {
  private readonly db: Database.Database;
  /** Prepared once: queueing runs after many checks a server answers. */
  private readonly stmts;

  constructor(
    path: string,
    private readonly limit = REVIEW_QUEUE_LIMIT,
  ) {
    try {
      this.db = new Database(path, { fileMustExist: true });
    } catch (err) {
      throw new DoppelError('STORE_ERROR', `cannot open the review queue of ${path}: ${(err as Error).message}`);
    }
    // Short: queueing runs on a server's event loop, and waits for the store's writer only briefly.
    this.db.pragma('busy_timeout = 1000');
    // As the store's writer: WAL commits without a sync each (a crash may lose the last queued pairs, never corrupt them).
    this.db.pragma('synchronous = NORMAL');
    // The store's writer creates both at open; a store last written by an older Doppel gets them here.
    this.db.exec(REVIEW_TABLE);
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(feedback)').all();
    if (!columns.some((c) => c.name === 'reviewer')) this.db.exec('ALTER TABLE feedback ADD COLUMN reviewer TEXT');
    const db = this.db;
    this.stmts = {
      find: db.prepare<[string], { id: number }>('SELECT id FROM review_queue WHERE fold_key = ?'),
      fold: db.prepare("UPDATE review_queue SET copies = copies + 1, probability = ?, threshold = ?, priority = ? WHERE id = ? AND status = 'pending'"),
      pending: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM review_queue WHERE status = 'pending'"),
      worst: db.prepare<[], { id: number; priority: number }>("SELECT id, priority FROM review_queue WHERE status = 'pending' ORDER BY priority DESC, id DESC LIMIT 1"),
      drop: db.prepare('DELETE FROM review_queue WHERE id = ?'),
      insert: db.prepare('INSERT INTO review_queue (fold_key, a_id, a_text, b_id, b_text, probability, threshold, priority, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      head: db.prepare<[number], Row>("SELECT * FROM review_queue WHERE status = 'pending' ORDER BY priority, id LIMIT ?"),
      counts: db.prepare<[], { status: ReviewItem['status']; n: number }>('SELECT status, count(*) AS n FROM review_queue GROUP BY status'),
      agreed: db.prepare<[], { n: number }>(agreedSql('review_queue')),
      item: db.prepare<[number], Row>('SELECT * FROM review_queue WHERE id = ?'),
      feedback: db.prepare('INSERT INTO feedback (a_text, b_text, a_id, b_id, is_duplicate, created_at, reviewer) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      close: db.prepare('UPDATE review_queue SET status = ?, reviewer = ?, decided_at = ?, feedback_id = ? WHERE id = ?'),
    };
  }

  async enqueue(candidates: ReviewCandidate[]): Promise<number> {
    const { find, fold, pending, worst, drop, insert } = this.stmts;
    return this.db
      .transaction(() => {
        let queued = 0;
        for (const c of candidates) {
          const key = reviewFoldKey(c.a.text, c.b.text);
          const priority = reviewPriority(c.probability, c.threshold);
          const known = find.get(key);
          // A pair already decided is not asked again; a pending one counts one more sighting, at the model's latest probability.
          if (known) {
            fold.run(c.probability, c.threshold, priority, known.id);
            continue;
          }
          if (pending.get()!.n >= this.limit) {
            const least = worst.get()!;
            if (least.priority <= priority) continue;
            drop.run(least.id);
          }
          insert.run(key, c.a.id, c.a.text, c.b.id, c.b.text, c.probability, c.threshold, priority, new Date().toISOString());
          queued++;
        }
        return queued;
      })
      .immediate();
  }

  async page(limit: number): Promise<ReviewPage> {
    const items = this.stmts.head.all(limit).map(toItem);
    const decided = emptyDecided();
    let pending = 0;
    for (const r of this.stmts.counts.all()) {
      if (r.status === 'pending') pending = r.n;
      else decided[r.status] = r.n;
    }
    return { items, pending, decided, agreed: this.stmts.agreed.get()!.n };
  }

  async decide(id: number, decision: ReviewDecision, reviewer: string): Promise<ReviewItem> {
    const { item, feedback, close } = this.stmts;
    return this.db
      .transaction(() => {
        const row = item.get(id);
        if (!row) throw new DoppelError('NOT_FOUND', `no review item ${id}`);
        if (row.status !== 'pending') throw new DoppelError('CONFLICT', `review item ${id} was decided already (${row.status}, by ${row.reviewer ?? 'unknown'})`);
        const decidedAt = new Date().toISOString();
        const feedbackId = decision === 'skip' ? null : Number(feedback.run(row.a_text, row.b_text, row.a_id, row.b_id, decision === 'duplicate' ? 1 : 0, decidedAt, reviewer).lastInsertRowid);
        close.run(decision, reviewer, decidedAt, feedbackId, id);
        return toItem({ ...row, status: decision, reviewer, decided_at: decidedAt, feedback_id: feedbackId });
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
