import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { DoppelError } from '../errors.js';
import type { Model } from '../model/load.js';
import type { DuplicateIndex } from '../search/stores.js';

/** What GET /v1/model says of the last activation. */
export interface ActivationStatus {
  state: 'encoding' | 'switching' | 'done' | 'failed';
  from: string;
  to: string;
  dir: string;
  staged: number;
  total: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ModelSwitchOptions {
  /** Loads a model directory (the server's runtime and backend). */
  load: (dir: string) => Promise<Model>;
  log: Logger;
  /** How long the switch waits for requests in flight to finish before it lets them go and tries again (default 2 s). */
  drainTimeoutMs?: number;
  /** Share of the time the background encoding may take from requests (default 0.5). */
  duty?: number;
}

/**
 * Puts another model into service while the current one answers (`doppel model activate`): the
 * index stages every stored question with the new model in the background, paced so requests
 * keep the processor; then new requests wait a moment, the ones in flight finish, the index
 * switches, and the waiting ones go on with the new model. No request sees two models: every
 * request runs between two switches, and its answer names its model (header Doppel-Model).
 */
export class ModelSwitch {
  private inFlight = 0;
  private drained?: () => void;
  private held: (() => void)[] = [];
  private job?: Promise<void>;
  private stopping = false;
  /** Models this switch loaded: disposed once replaced (the first model is its caller's). */
  private readonly owned = new Set<Model>();
  status?: ActivationStatus;

  constructor(
    private readonly index: DuplicateIndex,
    private readonly options: ModelSwitchOptions,
  ) {}

  /** Counts each request from arrival to its answer, holding new ones while a switch runs. */
  readonly middleware = (_req: Request, res: Response, next: NextFunction): void => {
    const admit = () => {
      this.inFlight++;
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        if (--this.inFlight === 0) this.drained?.();
      };
      res.on('finish', leave);
      res.on('close', leave);
      res.setHeader('Doppel-Model', this.index.model.id);
      next();
    };
    if (this.drained) this.held.push(admit);
    else admit();
  };

  get running(): boolean {
    return this.job !== undefined;
  }

  /**
   * Starts activating the model in `dir` (or `previous`: the one the store had before) in the
   * background; CONFLICT while another runs. A model that makes the same vectors (a refit verdict)
   * switches without encoding anything.
   */
  async activate(dir: string): Promise<ActivationStatus> {
    if (this.job) throw new DoppelError('CONFLICT', `a model activation is running (${this.status?.to ?? dir}, ${this.status?.state ?? 'loading'}): wait for it`);
    // Taken before the first wait: a second request (or the resume at start) is refused meanwhile.
    let ended!: () => void;
    this.job = new Promise<void>((resolve) => (ended = resolve));
    const end = () => {
      this.job = undefined;
      ended();
    };
    let next: Model;
    try {
      next = await this.options.load(dir);
    } catch (err) {
      end();
      // A directory that is not a model (or one this version cannot read) is the caller's mistake.
      if (err instanceof DoppelError && err.code === 'INVALID_INPUT') throw err;
      throw new DoppelError('INVALID_INPUT', `cannot load a model from ${dir}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.owned.add(next);
    const status: ActivationStatus = { state: 'encoding', from: this.index.model.id, to: next.id, dir, staged: 0, total: 0, startedAt: new Date().toISOString(), finishedAt: null, error: null };
    this.status = status;
    void this.run(next, status).finally(end);
    return status;
  }

  /** Resolves when the running activation ends (at once when none runs). */
  async settled(): Promise<void> {
    await this.job;
  }

  /** Shutdown: the encoding stops after its batch (what it staged is kept for the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.job;
    for (const model of this.owned) model.dispose();
    this.owned.clear();
  }

  /**
   * At start: an activation a crash or a stop left half done is resumed (its staged vectors are
   * kept) when its model directory still loads, else forgotten; the current model serves either way.
   */
  async resume(): Promise<void> {
    const { activating } = await this.index.models();
    if (!activating) return;
    if (activating.dir) {
      try {
        await this.activate(activating.dir);
        this.options.log.info({ to: activating.id, dir: activating.dir }, 'model activation: resuming the one left unfinished');
        return;
      } catch (err) {
        this.options.log.warn({ err: (err as Error).message, dir: activating.dir }, 'model activation: the unfinished one cannot resume');
      }
    }
    await this.index.discardActivation();
    this.options.log.warn({ to: activating.id }, 'model activation: the unfinished one was discarded; the current model serves');
  }

  private async run(next: Model, status: ActivationStatus): Promise<void> {
    const { log } = this.options;
    const duty = this.options.duty ?? 0.5;
    const previous = this.index.model;
    try {
      log.info({ from: status.from, to: status.to, dir: status.dir }, 'model activation: encoding the stored questions');
      await this.index.stage(next, {
        // Small batches: each is a short stretch in which requests share the processor with the encoding.
        batch: 64,
        onProgress: (staged, total) => Object.assign(status, { staged, total }),
        pace: async (ms) => {
          if (this.stopping) throw new DoppelError('OVERLOADED', 'the server is shutting down: the activation resumes at its next start');
          await new Promise((r) => setTimeout(r, (ms * (1 - duty)) / duty));
        },
      });
      status.state = 'switching';
      await this.exclusively(() => this.index.switchModel(next));
      Object.assign(status, { state: 'done', staged: status.total, finishedAt: new Date().toISOString() });
      // Saved after the switch, with requests flowing again.
      await this.index.save();
      log.info({ model: next.id }, 'model activation: the new model serves');
      this.release(previous);
    } catch (err) {
      Object.assign(status, { state: 'failed', error: (err as Error).message, finishedAt: new Date().toISOString() });
      log.error({ err: (err as Error).message, to: status.to }, 'model activation failed: the current model keeps serving');
      // Stopped by a shutdown, it resumes at the next start; failed, it is forgotten rather than tried again at every start.
      if (!this.stopping) await this.index.discardActivation().catch(() => {});
      this.release(next);
    }
  }

  /** Disposes a model this switch loaded, unless it serves. */
  private release(model: Model): void {
    if (model === this.index.model || !this.owned.delete(model)) return;
    model.dispose();
  }

  /** Runs `work` with no request in flight: new ones wait; ones that do not finish in time are let go and the switch is tried again. */
  private async exclusively(work: () => Promise<void>): Promise<void> {
    const timeout = this.options.drainTimeoutMs ?? 2000;
    for (;;) {
      const drained = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeout);
        this.drained = () => {
          clearTimeout(timer);
          resolve(true);
        };
        if (this.inFlight === 0) this.drained();
      });
      try {
        if (await drained) return await work();
      } finally {
        this.drained = undefined;
        const held = this.held;
        this.held = [];
        for (const admit of held) admit();
      }
      this.options.log.warn({ inFlight: this.inFlight }, 'model activation: requests did not finish in time; switching again shortly');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
