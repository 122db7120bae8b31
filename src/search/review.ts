import { questionKey } from '../text/question-key.js';

/** A moderator's answer to a queued pair; `skip` records no feedback. */
export const REVIEW_DECISIONS = ['duplicate', 'different', 'skip'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** One side of a queued pair: a stored question's id where it is one. */
export interface ReviewSide {
  id: string | null;
  text: string;
}

/** A pair the model was unsure of, as a search found it. */
export interface ReviewCandidate {
  a: ReviewSide;
  b: ReviewSide;
  probability: number;
  /** The decision threshold the probability was weighed against. */
  threshold: number;
}

export interface ReviewItem {
  id: number;
  a: ReviewSide;
  b: ReviewSide;
  probability: number;
  /** |logit(p) - logit(threshold)|: the queue serves the smallest first. */
  priority: number;
  /** How many times the pair (or a near-copy of it) was queued. */
  copies: number;
  createdAt: string;
  status: 'pending' | ReviewDecision;
  reviewer: string | null;
  decidedAt: string | null;
  /** The feedback row a decision wrote (none for `skip`). */
  feedbackId: number | null;
}

/** A queue row as both stores' tables hold it: ids and times as each driver reads them. */
export interface ReviewRow<Id, Time> {
  id: Id;
  a_id: string | null;
  a_text: string;
  b_id: string | null;
  b_text: string;
  probability: number;
  priority: number;
  copies: number;
  status: ReviewItem['status'];
  reviewer: string | null;
  decided_at: Time | null;
  feedback_id: Id | null;
  created_at: Time;
}

export const toReviewItem = <Id, Time>(r: ReviewRow<Id, Time>, iso: (t: Time) => string): ReviewItem => ({
  id: Number(r.id),
  a: { id: r.a_id, text: r.a_text },
  b: { id: r.b_id, text: r.b_text },
  probability: r.probability,
  priority: r.priority,
  copies: r.copies,
  createdAt: iso(r.created_at),
  status: r.status,
  reviewer: r.reviewer,
  decidedAt: r.decided_at === null ? null : iso(r.decided_at),
  feedbackId: r.feedback_id === null ? null : Number(r.feedback_id),
});

/** The queue's head and its counts. */
export interface ReviewPage {
  items: ReviewItem[];
  pending: number;
  decided: Record<ReviewDecision, number>;
  /** Decided pairs (duplicate or different) on which the model, when it queued them, sided with the moderator. */
  agreed: number;
}

/** Most pairs pending at once: past it, a new pair takes the place of the least informative one (or is dropped). */
export const REVIEW_QUEUE_LIMIT = 10_000;

const logit = (p: number) => {
  const q = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
  return Math.log(q / (1 - q));
};

/**
 * How far a pair is from the decision, in log-odds: the queue asks about the smallest first
 * (uncertainty sampling; Lewis & Gale, "A Sequential Algorithm for Training Text Classifiers",
 * SIGIR 1994), because a decision there is the one most likely to move the threshold's side of
 * other pairs. Log-odds, not probability, so that 0.99 and 0.999 are told apart.
 */
export function reviewPriority(probability: number, threshold: number): number {
  return Math.abs(logit(probability) - logit(threshold));
}

/**
 * The key near-copies of a pair share: both texts normalised (questionKey), in either order.
 * A second "How do I reset my password?" against the same stored question folds into the first.
 */
export function reviewFoldKey(a: string, b: string): string {
  const [x, y] = [questionKey(a), questionKey(b)].sort();
  // U+001F: a control character no checked question holds, and one PostgreSQL text can (it refuses NUL).
  return `${x}\u001f${y}`;
}

/** Counts decided pairs whose probability at queueing was on the moderator's side of its threshold (one SQL for both backends' tables). */
export const agreedSql = (table: string) =>
  `SELECT count(*) AS n FROM ${table} WHERE (status = 'duplicate' AND probability >= threshold) OR (status = 'different' AND probability < threshold)`;

export const emptyDecided = (): Record<ReviewDecision, number> => ({ duplicate: 0, different: 0, skip: 0 });

/**
 * The pairs waiting for a moderator, in a store beside its questions. A decision other than
 * `skip` is written as feedback (with the reviewer's name and the time) in the same transaction
 * that closes the item; a decided pair is never queued again.
 */
export interface ReviewQueue {
  /** Queues each pair, or folds it into a pending near-copy; returns how many were queued anew. */
  enqueue(candidates: ReviewCandidate[]): Promise<number>;
  /** The `limit` most informative pending pairs, and the counts. */
  page(limit: number): Promise<ReviewPage>;
  /** NOT_FOUND for an unknown item, CONFLICT for one decided already. */
  decide(id: number, decision: ReviewDecision, reviewer: string): Promise<ReviewItem>;
  close(): Promise<void>;
}
