/**
 * Prometheus metrics with prom-client. Each Metrics has its own Registry (never prom-client's
 * global one), so several apps in one process, as in the tests, keep separate counts.
 *
 * Labels are bounded: callers pass only declared route patterns (or UNMATCHED_ROUTE) and methods
 * are folded to a fixed set, so the number of series is bounded by routes x methods x statuses,
 * whatever clients send.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SearchStage } from '../search/backend.js';
import type { Refusal } from './admission.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The route label of every request that matched no declared route (404s, early 401/415/429). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A method label from a fixed set: anything else the HTTP parser accepts becomes 'other'. */
export const methodLabel = (method: string) => (METHODS.has(method) ? method : 'other');

/** What the index gauges show, read at every scrape. */
export interface IndexGauges {
  /** Questions in the vector index. */
  indexed: number;
  /** Questions marked deleted in the store. */
  deleted: number;
  /** Labelled feedback pairs stored. */
  feedback: number;
}

export interface MetricsOptions {
  /** Read when /metrics is scraped; no index gauges without it. */
  index?: () => Promise<IndexGauges>;
  /** Labels of doppel_model_info (read at every scrape: a model can be switched); no model gauge without it. */
  model?: () => { model: string; energy: string; encoder: string };
  /** A model activation's progress, read at every scrape; no activation gauges without it. */
  activation?: () => { state: string; staged: number; total: number } | undefined;
  /**
   * prom-client's default process metrics (CPU, memory, file descriptors, event-loop lag, GC,
   * active handles). Default true. They describe the process, not one app, so they are
   * collected once per process into a registry of their own (prom-client's GC observer and
   * event-loop monitor cannot be stopped, so one per app would pile up) and merged into each
   * app's registry.
   */
  processMetrics?: boolean;
  /** Requests waiting for a slot, read at every scrape; no queue gauge without it. */
  queued?: () => number;
}

/** Stages take from tens of microseconds (a BM25 top-k) to tens of milliseconds (a batch encode). */
const STAGE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** Keys named in metric labels: enough for a forum's keys, bounded whatever is created. */
const MAX_KEY_LABELS = 100;

let processRegistry: Registry | undefined;

/** The process metrics, collected once per process (lazily) into a registry that is not prom-client's global one. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Labels = 'method' | 'route' | 'status';

export class Metrics {
  /** This app's metrics, plus the process metrics unless turned off. */
  readonly registry: Registry;
  private readonly duration: Histogram<Labels>;
  private readonly requests: Counter<Labels>;
  private readonly suggestCache: Counter<'result'>;
  private readonly refusals: Counter<'reason'>;
  private readonly keyRequests: Counter<'key' | 'outcome'>;
  private readonly stages: Histogram<'stage'>;
  /** Key names with a series of their own; past MAX_KEY_LABELS the rest share one ('other'). */
  private readonly keyLabels = new Set<string>();
  /** The index figures of the scrape in progress, so one scrape reads the store once. */
  private scrape?: { gauges?: Promise<IndexGauges> };

  constructor(options: MetricsOptions = {}) {
    const own = new Registry();
    this.duration = new Histogram({
      name: 'doppel_http_request_duration_seconds',
      help: 'HTTP request latency by route.',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [own],
    });
    this.requests = new Counter({ name: 'doppel_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status'], registers: [own] });
    this.suggestCache = new Counter({ name: 'doppel_suggest_cache_requests_total', help: 'Suggestion requests by cache result (hit rate: hit / all).', labelNames: ['result'], registers: [own] });
    const cache = this.suggestCache;
    new Gauge({
      name: 'doppel_suggest_cache_hit_ratio',
      help: 'Share of suggestion requests answered from the cache since start.',
      registers: [own],
      async collect() {
        const values = (await cache.get()).values;
        const count = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
        const all = count('hit') + count('miss');
        this.set(all === 0 ? 0 : count('hit') / all);
      },
    });
    this.refusals = new Counter({ name: 'doppel_requests_refused_total', help: 'Requests refused with 503 under load: expected to start past their deadline (late), deadline passed while waiting, or the queue at its memory bound.', labelNames: ['reason'], registers: [own] });
    this.stages = new Histogram({
      name: 'doppel_search_stage_duration_seconds',
      help: 'Time a request spends in each stage: analysis (slips mended), encode, dense and lexical candidates, read (stored rows and vectors), verdict, serialise (the JSON answer).',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers: [own],
    });
    this.keyRequests = new Counter({
      name: 'doppel_key_requests_total',
      help: `Requests made with an API key, by key name (the first ${MAX_KEY_LABELS}; then 'other') and outcome (allowed, forbidden, rate_limited).`,
      labelNames: ['key', 'outcome'],
      registers: [own],
    });
    const { index, model, queued } = options;
    if (queued) {
      new Gauge({
        name: 'doppel_requests_queued',
        help: 'Requests waiting for a slot.',
        registers: [own],
        collect() {
          this.set(queued());
        },
      });
    }
    if (index) {
      const read = () => (this.scrape ? (this.scrape.gauges ??= index()) : index());
      const gauge = (name: string, help: string, pick: (g: IndexGauges) => number) =>
        new Gauge({
          name,
          help,
          registers: [own],
          async collect() {
            this.set(pick(await read()));
          },
        });
      gauge('doppel_index_questions', 'Questions in the vector index.', (g) => g.indexed);
      gauge('doppel_store_deleted_questions', 'Questions marked deleted.', (g) => g.deleted);
      gauge('doppel_feedback_pairs', 'Labelled feedback pairs stored.', (g) => g.feedback);
    }
    if (model) {
      new Gauge({
        name: 'doppel_model_info',
        help: 'The model in use.',
        labelNames: ['model', 'energy', 'encoder'],
        registers: [own],
        collect() {
          this.reset();
          this.set(model(), 1);
        },
      });
    }
    const { activation } = options;
    if (activation) {
      new Gauge({
        name: 'doppel_model_activation_progress',
        help: 'The share of stored questions the model being activated has encoded (0 when none is; 1 once it serves).',
        registers: [own],
        collect() {
          const a = activation();
          this.set(a && a.total > 0 ? a.staged / a.total : a?.state === 'done' ? 1 : 0);
        },
      });
      new Gauge({
        name: 'doppel_model_activation_state',
        help: 'The last model activation: 1 for its state (encoding, switching, done, failed).',
        labelNames: ['state'],
        registers: [own],
        collect() {
          this.reset();
          const a = activation();
          if (a) this.set({ state: a.state }, 1);
        },
      });
    }
    this.registry = options.processMetrics === false ? own : Registry.merge([own, processMetrics()]);
  }

  /** Counts one finished request. `route` must be a declared route pattern or UNMATCHED_ROUTE, never the raw path. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method: methodLabel(method), route, status: String(status) };
    this.duration.observe(labels, seconds);
    this.requests.inc(labels);
  }

  /** Counts a suggestion request answered from the cache (hit) or computed (miss). */
  suggestion(hit: boolean): void {
    this.suggestCache.inc({ result: hit ? 'hit' : 'miss' });
  }

  /** Times one stage of a request. */
  stage(stage: SearchStage | 'serialise', seconds: number): void {
    this.stages.observe({ stage }, seconds);
  }

  /** Counts a request made with a key. */
  keyRequest(name: string, outcome: 'allowed' | 'forbidden' | 'rate_limited'): void {
    if (!this.keyLabels.has(name) && this.keyLabels.size < MAX_KEY_LABELS) this.keyLabels.add(name);
    this.keyRequests.inc({ key: this.keyLabels.has(name) ? name : 'other', outcome });
  }

  /** Counts a request refused with 503. */
  refused(reason: Refusal): void {
    this.refusals.inc({ reason });
  }

  /** The Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  async render(): Promise<string> {
    this.scrape = {};
    try {
      return await this.registry.metrics();
    } finally {
      this.scrape = undefined;
    }
  }
}
