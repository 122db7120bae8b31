/**
 * Admission control for the CPU-bound routes: at most `concurrency` requests run at once, at most
 * `queue` more wait, and a request that waited past its deadline is dropped before any work is
 * spent on it. Both refusals are fast 503s with Retry-After, so an overloaded server answers
 * "come back" in a millisecond instead of making every client wait seconds (the long tail a
 * 64-connection load showed: p99 of 5 s).
 */
import { DoppelError } from '../errors.js';

export interface AdmissionOptions {
  /** Requests doing work at once (0 refuses them all: a server being drained). */
  concurrency: number;
  /** Requests allowed to wait for a slot; one more is refused at once. */
  queue: number;
  /** Milliseconds from a request's arrival until it must have a slot, or it is refused. */
  deadlineMs: number;
}

export type Refusal = 'queue_full' | 'deadline';

/**
 * Work runs on one JavaScript thread, so more slots add no speed: the bound on slots plus queue
 * is the bound on how long an admitted request waits (about 20 requests' work).
 */
export const DEFAULT_ADMISSION: AdmissionOptions = { concurrency: 4, queue: 16, deadlineMs: 500 };

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly options: AdmissionOptions,
    private readonly onRefusal: (reason: Refusal) => void = () => {},
  ) {}

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` when a slot is free; refuses with OVERLOADED when the queue is full or the
   * deadline, counted from `arrivedAt` (performance.now() when the request came in: time spent
   * before it reached the queue counts too), passes first.
   */
  async run<T>(work: () => Promise<T>, arrivedAt = performance.now()): Promise<T> {
    const left = arrivedAt + this.options.deadlineMs - performance.now();
    if (left <= 0) throw this.refusal('deadline');
    if (this.running >= this.options.concurrency) await this.wait(left);
    else this.running++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private wait(left: number): Promise<void> {
    if (this.waiting.length >= this.options.queue) return Promise.reject(this.refusal('queue_full'));
    return new Promise<void>((start, refuse) => {
      const waiter: Waiter = {
        start,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          refuse(this.refusal('deadline'));
        }, left),
      };
      this.waiting.push(waiter);
    });
  }

  /** Hands the freed slot to the oldest waiter. */
  private release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.running--;
      return;
    }
    clearTimeout(next.timer);
    next.start();
  }

  private refusal(reason: Refusal): DoppelError {
    this.onRefusal(reason);
    const why = reason === 'queue_full' ? `${this.options.queue} requests are already waiting` : `it would wait over ${this.options.deadlineMs} ms`;
    return new DoppelError('OVERLOADED', `the server is busy (${why}); retry shortly`);
  }
}
