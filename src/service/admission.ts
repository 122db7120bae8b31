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
  /** Milliseconds a request may wait for a slot before it is refused. */
  deadlineMs: number;
}

export type Refusal = 'queue_full' | 'deadline';

export const DEFAULT_ADMISSION: AdmissionOptions = { concurrency: 4, queue: 64, deadlineMs: 1000 };

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

  /** Runs `work` when a slot is free; refuses with OVERLOADED when the queue is full or the deadline passes. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrency) await this.wait();
    else this.running++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private wait(): Promise<void> {
    if (this.waiting.length >= this.options.queue) return Promise.reject(this.refusal('queue_full'));
    return new Promise<void>((start, refuse) => {
      const waiter: Waiter = {
        start,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          refuse(this.refusal('deadline'));
        }, this.options.deadlineMs),
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
    const why = reason === 'queue_full' ? `${this.options.queue} requests are already waiting` : `it waited over ${this.options.deadlineMs} ms`;
    return new DoppelError('OVERLOADED', `the server is busy (${why}); retry shortly`);
  }
}
