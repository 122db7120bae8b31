/**
 * Admission control for the CPU-bound routes, by deadline: at most `concurrency` requests run at
 * once; a request that finds every slot taken waits, unless the wait it can expect would take it
 * past its deadline, in which case it is refused at once (a 503 with Retry-After, in a
 * millisecond, instead of an answer nobody waits for). The expected wait is Little's law read
 * off the server itself: the requests ahead of it times the measured service time of a request
 * over the slots that serve them, in the manner of adaptive concurrency limiters (Netflix's
 * concurrency-limits, Envoy's adaptive concurrency) that bound queues by latency rather than by
 * a fixed length. A fixed queue of 16 shed most of a 64-connection load the server could answer
 * within its deadline. A request whose deadline passes while it waits is dropped before any work
 * is spent on it; `queue` only bounds memory.
 */
import { DoppelError } from '../errors.js';

export interface AdmissionOptions {
  /** Requests doing work at once (0 refuses them all: a server being drained). */
  concurrency: number;
  /** The most requests that may wait, whatever their expected wait: a bound on memory. */
  queue: number;
  /** Milliseconds from a request's arrival until it must have a slot, or it is refused. */
  deadlineMs: number;
}

/** `late`: its expected wait passes the deadline; `deadline`: it waited, and the deadline passed. */
export type Refusal = 'queue_full' | 'late' | 'deadline';

/** Work runs on one JavaScript thread, so more slots add no speed, only interleaving. */
export const DEFAULT_ADMISSION: AdmissionOptions = { concurrency: 4, queue: 1024, deadlineMs: 500 };

/** Weight of the newest request's service time in the moving average (about the last 20). */
const SMOOTHING = 0.05;

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /**
   * Milliseconds a request holds its slot, averaged (0 until measured): every finished request
   * updates it, so one stall fades as the next requests finish. A sample counts at most the
   * deadline, which is all a wait is compared with.
   */
  private service = 0;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly onRefusal: (reason: Refusal) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** How long a request arriving now can expect to wait for a slot, in milliseconds. */
  get expectedWaitMs(): number {
    return this.running < this.options.concurrency ? 0 : ((this.waiting.length + 1) * this.service) / this.options.concurrency;
  }

  /**
   * Runs `work` when a slot is free; refuses with OVERLOADED when it cannot start by its
   * deadline, counted from `arrivedAt` (the clock's time when the request came in: time spent
   * before it reached admission counts too).
   */
  async run<T>(work: () => Promise<T>, arrivedAt = this.now()): Promise<T> {
    const left = arrivedAt + this.options.deadlineMs - this.now();
    if (left <= 0) throw this.refusal('deadline');
    if (this.running >= this.options.concurrency) await this.wait(left);
    else this.running++;
    const began = this.now();
    try {
      return await work();
    } finally {
      const took = Math.min(this.now() - began, this.options.deadlineMs);
      this.service = this.service === 0 ? took : this.service + SMOOTHING * (took - this.service);
      this.release();
    }
  }

  private wait(left: number): Promise<void> {
    if (this.waiting.length >= this.options.queue) return Promise.reject(this.refusal('queue_full'));
    // The first in line always waits (its deadline still holds): a measure that is off cannot shed everything.
    if (this.waiting.length > 0 && this.expectedWaitMs > left) return Promise.reject(this.refusal('late'));
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
    const why =
      reason === 'queue_full'
        ? `${this.options.queue} requests are already waiting`
        : reason === 'late'
          ? `it would wait about ${Math.round(this.expectedWaitMs)} ms, past its ${this.options.deadlineMs} ms deadline`
          : `it would wait over ${this.options.deadlineMs} ms`;
    return new DoppelError('OVERLOADED', `the server is busy (${why}); retry shortly`);
  }
}
