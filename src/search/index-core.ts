import { randomUUID } from 'node:crypto';
import type { Pair } from '../data/pairs.js';
import { DoppelError, type ErrorCode, invalidInput } from '../errors.js';
import type { DecisionChoice, Model } from '../model/load.js';
import { checkText, metadataProblem, nameProblem, urlProblem } from '../text/validate.js';
import { type FusionWeights, fuseScores } from './fusion.js';
import {
  type DuplicateIndex,
  type FeedbackInput,
  type Hit,
  type IndexStats,
  type NewFeedback,
  type NewQuestion,
  type QuestionFields,
  type QuestionInput,
  type QuestionPage,
  SEARCH_MODES,
  type SearchMode,
  type SearchOptions,
  type SearchStage,
  type StageObserver,
  type StageOptions,
  type StoredQuestion,
  type StoreModels,
  type UpsertOutcome,
  type UpsertPlan,
} from './backend.js';

/**
 * A store encoded by another model is not re-encoded behind the user's back (minutes to hours,
 * and the store answers with the new model's judgement afterwards): `reencode` says to, and
 * `doppel model activate` switches a live store without downtime.
 */
export function refuseOtherModel(stored: string | undefined, model: Model, live: number, options: { reencode?: boolean; where: string }): void {
  if (!stored || stored === model.id || live === 0 || options.reencode) return;
  throw new DoppelError(
    'CONFLICT',
    `${options.where} holds ${live} questions encoded by model ${stored}, not ${model.id}: serve it with that model (the default: --model left out), ` +
      `switch it without downtime with doppel model activate --store ${options.where} --model ${model.files.dir}, or re-encode it now with --reencode`,
  );
}

/** The energy's weight against normalised BM25; chosen on the held-out Quora retrieval task. */
export type { StageOptions, StoreModels };

export const DEFAULT_FUSION: FusionWeights = { alpha: 1 };
export const ENCODE_BATCH = 512;

export const definedOnly = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** A dense candidate: its energy to the query; a backend that read the question (or its vector) on the way gives it too. */
export interface DenseCandidate {
  label: number;
  energy: number;
  question?: StoredQuestion;
  vector?: Float32Array;
}

/** A lexical candidate: its BM25 (higher is better), and what the backend read on the way. */
export interface LexicalCandidate {
  label: number;
  bm25: number;
  question?: StoredQuestion;
  vector?: Float32Array;
}

/** The model's energies of the query to stored vectors: one code path for every backend. */
export function energiesTo(model: Model, query: Float32Array, vectors: Iterable<[number, Float32Array]>): Map<number, number> {
  const energies = new Map<number, number>();
  for (const [label, v] of vectors) energies.set(label, model.energy.vectors(query, v));
  return energies;
}

/** k and mode checked once for every backend. */
function searchParams(options: SearchOptions): { k: number; mode: SearchMode } {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1 || k > 1000) throw invalidInput('k must be an integer from 1 to 1000');
  const mode = options.mode ?? 'hybrid';
  if (!(SEARCH_MODES as readonly string[]).includes(mode)) throw invalidInput(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  return { k, mode };
}

/**
 * What every store does the same way: validation of questions and queries, encoding, the search
 * pipeline (dense and lexical candidates, energies, hybrid fusion, hits with probabilities) and
 * feedback. A backend supplies storage and candidate retrieval.
 */
export abstract class IndexCore implements DuplicateIndex {
  private stageObserver?: StageObserver;

  protected constructor(
    /** Replaced only by switchModel, while no request is in flight. */
    public model: Model,
    protected readonly fusion: FusionWeights,
    protected readonly readonly: boolean,
  ) {}

  abstract readonly generation: number | undefined;
  abstract warm(): void;
  protected abstract removeRow(id: string): Promise<StoredQuestion>;
  /** Stored questions by id, removed ones included (an id is taken once either holds it). */
  protected abstract rowsById(ids: string[]): Promise<Map<string, StoredQuestion>>;
  /**
   * Applies a plan in one transaction, all or nothing (CONFLICT for an id taken meanwhile):
   * `vectors` holds a row for each created question, then for each replaced one. Returns the stored questions in the plan's order
   * (created, replaced, updated). A replaced question keeps its id and creation time.
   */
  protected abstract writePlan(plan: UpsertPlan, vectors: Float32Array, modelId: string): Promise<StoredQuestion[]>;

  /** A write's vectors are of `modelId`: CONFLICT if another model took over while they were encoded (the writer sends it again). */
  protected sameModel(modelId: string): void {
    if (modelId !== this.model.id) throw new DoppelError('CONFLICT', 'the store switched models while this write was encoded: send it again');
  }
  /** Up to `limit` live questions with ids after `after`, in id order. */
  protected abstract listRows(after: string | undefined, limit: number): Promise<StoredQuestion[]>;
  abstract get(id: string): Promise<StoredQuestion | undefined>;
  /** Labels of the given external ids (unknown ids are left out). */
  protected abstract labelsOf(ids: string[]): Promise<Set<number>>;
  /** The k nearest live questions by the model's energy, least first. */
  protected abstract dense(query: Float32Array, k: number, category: string | undefined, excluded: Set<number>): Promise<DenseCandidate[]>;
  /** The k best live questions by BM25, best first. */
  protected abstract lexical(text: string, k: number, options: SearchOptions, excluded: Set<number>): Promise<LexicalCandidate[]>;
  /** Stored vectors of the given questions. */
  protected abstract storedVectors(labels: number[]): Promise<Map<number, Float32Array>>;
  protected abstract questionsByLabel(labels: number[]): Promise<Map<number, StoredQuestion>>;
  protected abstract storeFeedback(row: NewFeedback): Promise<number>;
  abstract feedbackPairs(): Promise<Pair[]>;
  abstract models(): Promise<StoreModels>;
  abstract stage(next: Model, options?: StageOptions): Promise<void>;
  abstract switchModel(next: Model): Promise<void>;
  abstract discardActivation(): Promise<void>;
  abstract stats(options?: { categories?: boolean }): Promise<IndexStats>;
  abstract save(): Promise<void>;
  abstract close(): Promise<void>;

  protected writable(): void {
    if (this.readonly) throw new DoppelError('STORE_ERROR', 'this index was opened read-only');
  }

  async add(questions: QuestionInput[]): Promise<StoredQuestion[]> {
    return this.insert(questions);
  }

  /**
   * Search, then insert: the stored questions the new one duplicates (as they were before it was
   * added; `k` nearest by hybrid search in its category), and the stored question. The text is
   * encoded once for both.
   */
  async addIfNew(question: QuestionInput, options: { k?: number; decision?: DecisionChoice } = {}): Promise<{ question: StoredQuestion; duplicates: Hit[]; nearest?: Hit }> {
    this.writable();
    if (question.id !== undefined && (await this.has(question.id))) throw new DoppelError('CONFLICT', `a question with id '${question.id}' already exists`);
    const text = checkText(question.text);
    const model = this.model;
    const vector = await this.timed('encode', () => model.encoder.encode([text]));
    const [query] = await this.timed('analysis', () => this.queryTexts([text], {}));
    const before = await this.searchEncoded(query, query === text ? vector : await model.encoder.encode([query]), { k: options.k ?? 5, mode: 'hybrid', category: question.category ?? undefined, decision: options.decision });
    const [stored] = await this.insert([{ ...question, text }], vector, model);
    return { question: stored, duplicates: before.filter((h) => h.isDuplicate), nearest: before[0] };
  }

  /** `vectors` skips encoding texts the caller has already encoded (row i for question i), with `model`. */
  private async insert(questions: QuestionInput[], vectors?: Float32Array, model = this.model): Promise<StoredQuestion[]> {
    this.writable();
    const clean = validQuestions(questions);
    if (clean.length === 0) return [];
    const taken = await this.rowsById(clean.map((q) => q.id));
    const first = clean.find((q) => taken.has(q.id));
    if (first) throw new DoppelError('CONFLICT', `a question with id '${first.id}' already exists`);
    const dim = model.encoder.dim;
    if (vectors && vectors.length !== clean.length * dim) throw invalidInput(`expected ${clean.length} vectors of ${dim} values`);
    return this.writePlan({ create: clean, replace: [], update: [] }, vectors ?? (await model.encoder.encode(clean.map((q) => q.text))), model.id);
  }

  async remove(id: string): Promise<StoredQuestion> {
    this.writable();
    return this.removeRow(id);
  }

  async upsert(questions: (QuestionInput & { id: string })[]): Promise<UpsertOutcome[]> {
    this.writable();
    const outcomes: (UpsertOutcome | undefined)[] = new Array(questions.length);
    const valid: { at: number; question: NewQuestion }[] = [];
    const later = new Map<string, number>();
    questions.forEach((q, at) => {
      try {
        if (q.id === undefined || q.id === null) throw invalidInput('id is required');
        // Matched exactly, as a path names it: an id is not trimmed into another.
        if (String(q.id) !== String(q.id).trim()) throw invalidInput('id must not start or end with white space');
        const question = validQuestion(q);
        // A batch that names an id twice stores its last line, as the lines would one after another.
        const earlier = later.get(question.id);
        if (earlier !== undefined) outcomes[valid[earlier].at] = { id: question.id, result: 'superseded' };
        later.set(question.id, valid.length);
        valid.push({ at, question });
      } catch (err) {
        outcomes[at] = { id: String(q.id ?? ''), error: errorOf(err) };
      }
    });
    const last = valid.filter((v, i) => later.get(v.question.id) === i);
    const current = await this.rowsById(last.map((v) => v.question.id));
    const plan: UpsertPlan = { create: [], replace: [], update: [] };
    const planned: { at: number; result: 'created' | 'replaced' | 'updated' }[][] = [[], [], []];
    for (const { at, question } of last) {
      const stored = current.get(question.id);
      if (stored?.deleted) outcomes[at] = { id: question.id, error: { code: 'CONFLICT', message: `the question '${question.id}' was removed, and its id is not reused` } };
      else if (!stored) (plan.create.push(question), planned[0].push({ at, result: 'created' }));
      else if (stored.text !== question.text) (plan.replace.push({ question, current: stored }), planned[1].push({ at, result: 'replaced' }));
      else if (!sameFields(stored, question)) (plan.update.push({ question, current: stored }), planned[2].push({ at, result: 'updated' }));
      else outcomes[at] = { id: question.id, result: 'unchanged', question: stored };
    }
    const order = planned.flat();
    if (order.length > 0) {
      const texts = [...plan.create.map((q) => q.text), ...plan.replace.map((r) => r.question.text)];
      const model = this.model;
      const vectors = texts.length > 0 ? await model.encoder.encode(texts) : new Float32Array(0);
      const written = await this.writePlan(plan, vectors, model.id);
      order.forEach(({ at, result }, i) => (outcomes[at] = { id: written[i].id, result, question: written[i] }));
    }
    return outcomes as UpsertOutcome[];
  }

  async patch(id: string, fields: QuestionFields): Promise<StoredQuestion> {
    this.writable();
    const current = (await this.rowsById([id])).get(id);
    if (!current || current.deleted) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
    const merged = validFields({
      category: fields.category !== undefined ? fields.category : current.category,
      url: fields.url !== undefined ? fields.url : current.url,
      metadata: fields.metadata !== undefined ? fields.metadata : current.metadata,
    });
    if (sameFields(current, merged)) return current;
    const [stored] = await this.writePlan({ create: [], replace: [], update: [{ question: { id, text: current.text, ...merged }, current }] }, new Float32Array(0), this.model.id);
    return stored;
  }

  async list(options: { after?: string; limit: number }): Promise<QuestionPage> {
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidInput('limit must be an integer from 1 to 1000');
    const questions = await this.listRows(options.after, limit);
    return { questions, next: questions.length === limit ? questions[questions.length - 1].id : null };
  }

  async has(id: string): Promise<boolean> {
    return (await this.rowsById([id])).has(id);
  }

  async search(text: string, options: SearchOptions = {}): Promise<Hit[]> {
    return (await this.searchMany([{ text, exclude: options.exclude }], options))[0];
  }

  async mend(texts: string[]): Promise<string[]> {
    return this.queryTexts(texts.map((t) => checkText(t)), {});
  }

  /** The texts a search encodes and matches: the checked queries, which a store may mend (typos). */
  protected async queryTexts(texts: string[], _options: Omit<SearchOptions, 'exclude'>): Promise<string[]> {
    return texts;
  }

  async searchMany(queries: { text: string; exclude?: string[] }[], options: Omit<SearchOptions, 'exclude'> = {}): Promise<Hit[][]> {
    searchParams(options);
    const texts = await this.timed('analysis', () => this.queryTexts(queries.map((q) => checkText(q.text)), options));
    const dim = this.model.encoder.dim;
    const results: Hit[][] = [];
    for (let start = 0; start < texts.length; start += ENCODE_BATCH) {
      // Encoded in every mode: lexical hits report their energy too.
      const vectors = await this.timed('encode', () => this.model.encoder.encode(texts.slice(start, start + ENCODE_BATCH)));
      for (let i = start; i < Math.min(texts.length, start + ENCODE_BATCH); i++) {
        const j = i - start;
        results.push(await this.searchEncoded(texts[i], vectors.subarray(j * dim, (j + 1) * dim), { ...options, exclude: queries[i].exclude }));
      }
    }
    return results;
  }

  async feedback(input: FeedbackInput): Promise<number> {
    this.writable();
    const side = async (text: string | undefined, id: string | undefined) => {
      if (text !== undefined) return { text: checkText(text), id: null };
      const q = id === undefined ? undefined : await this.get(id);
      if (!q) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
      return { text: q.text, id: q.id };
    };
    const a = await side(input.a, input.aId);
    const b = await side(input.b, input.bId);
    return this.storeFeedback({ a: a.text, b: b.text, aId: a.id, bId: b.id, isDuplicate: input.isDuplicate });
  }

  /** A stored question as a search result for the query `text`: the model's verdict on the pair, given their deciding energy. */
  protected hit(text: string, q: StoredQuestion, energy: number, threshold: number): Hit {
    const { probability, isDuplicate } = this.model.judge(text, q.text, energy, threshold);
    return { id: q.id, text: q.text, category: q.category, url: q.url, metadata: q.metadata, energy, probability, isDuplicate };
  }

  protected async searchEncoded(text: string, query: Float32Array, options: SearchOptions = {}): Promise<Hit[]> {
    const { k, mode } = searchParams(options);
    const excluded = options.exclude?.length ? await this.labelsOf(options.exclude) : new Set<number>();
    // Candidates per list for fusion: 50 measured best; a title still being typed (a last word
    // read as a prefix) trades a little for speed, a finished one is searched as any text is.
    const judged = Math.max(k, JUDGED_CANDIDATES);
    const typing = options.prefix && /[\p{L}\p{N}]$/u.test(text);
    const pool = mode === 'hybrid' ? Math.max(typing ? 20 : 50, 3 * k) : judged;
    const [dense, lexical] = await Promise.all([
      mode === 'lexical' ? [] : this.timed('dense', () => this.dense(query, pool, options.category, excluded)),
      mode === 'dense' ? [] : this.timed('lexical', () => this.lexical(text, pool, options, excluded)),
    ]);
    const energies = new Map(dense.map((d) => [d.label, d.energy]));
    const read = new Map<number, StoredQuestion>();
    for (const c of [...dense, ...lexical]) if (c.question) read.set(c.label, c.question);
    const unscored = lexical.filter((l) => !energies.has(l.label));
    const carried = unscored.flatMap((l): [number, Float32Array][] => (l.vector ? [[l.label, l.vector]] : []));
    const missing = unscored.filter((l) => !l.vector).map((l) => l.label);
    const vectors = missing.length > 0 ? await this.timed('read', () => this.storedVectors(missing)) : new Map<number, Float32Array>();
    for (const [label, e] of energiesTo(this.model, query, [...carried, ...vectors])) energies.set(label, e);
    let labels: number[];
    if (mode === 'dense') labels = dense.map((d) => d.label);
    else if (mode === 'lexical') labels = lexical.map((l) => l.label);
    else labels = fuseScores(lexical, energies, this.fusion);
    labels = labels.slice(0, judged);
    const unread = labels.filter((l) => !read.has(l));
    if (unread.length > 0) for (const [label, q] of await this.timed('read', () => this.questionsByLabel(unread))) read.set(label, q);
    const decided = this.model.decisionEnergy ? await this.decisionEnergies(query, labels, [...dense, ...lexical], vectors) : energies;
    const { threshold } = this.model.decision(options.decision);
    // The search picks the candidates; the verdict orders them, so a duplicate never sits below a non-duplicate.
    const started = performance.now();
    const hits = labels
      .flatMap((label) => {
        const q = read.get(label);
        return !q || q.deleted ? [] : [this.hit(text, q, decided.get(label) ?? NaN, threshold)];
      })
      .sort(byVerdict)
      .slice(0, k);
    this.stageObserver?.('verdict', (performance.now() - started) / 1000);
    return hits;
  }

  /** Where searches report how long each stage took (the service's /metrics); undefined stops it. */
  observeStages(observer: StageObserver | undefined): void {
    this.stageObserver = observer;
  }

  private async timed<T>(stage: SearchStage, work: () => Promise<T>): Promise<T> {
    const observer = this.stageObserver;
    if (!observer) return work();
    const started = performance.now();
    try {
      return await work();
    } finally {
      observer(stage, (performance.now() - started) / 1000);
    }
  }

  /** An ensemble's deciding (classifier) energies of the hits, from their stored vectors (those the candidates carry or were read already, else read now). */
  private async decisionEnergies(
    query: Float32Array,
    labels: number[],
    candidates: (DenseCandidate | LexicalCandidate)[],
    read: Map<number, Float32Array>,
  ): Promise<Map<number, number>> {
    const vectors = new Map(read);
    for (const c of candidates) if (c.vector) vectors.set(c.label, c.vector);
    const missing = labels.filter((l) => !vectors.has(l));
    if (missing.length > 0) for (const [label, v] of await this.storedVectors(missing)) vectors.set(label, v);
    const decide = this.model.decisionEnergy!;
    return new Map(labels.flatMap((l): [number, number][] => (vectors.has(l) ? [[l, decide(query, vectors.get(l)!)]] : [])));
  }
}

/**
 * Candidates the verdict judges whatever k asks for: the top duplicate is then the same for a
 * search of 5 (the API), of 10 (the CLI) or of suggestions, and a duplicate ranked 6th by the
 * search still surfaces first.
 */
export const JUDGED_CANDIDATES = 10;

/** Highest probability first; the lower energy first where probabilities tie (identical texts, say). */
export const byVerdict = (a: Hit, b: Hit): number => b.probability - a.probability || a.energy - b.energy;

/** A question's fields checked and normalised: what a store writes (absent ones null), or INVALID_INPUT. */
function validFields(q: QuestionFields): Required<QuestionFields> {
  const category = q.category ? String(q.category).trim() : null;
  const problem = (category ? nameProblem(category, 'category') : undefined) ?? (q.url ? urlProblem(q.url) : undefined) ?? (q.metadata ? metadataProblem(q.metadata) : undefined);
  if (problem) throw invalidInput(problem);
  return { category: category || null, url: q.url || null, metadata: q.metadata ?? null };
}

/** A question checked and normalised (its id generated where missing), or INVALID_INPUT. */
function validQuestion(q: QuestionInput): NewQuestion {
  const id = q.id === undefined || q.id === null ? randomUUID() : String(q.id).trim();
  const problem = nameProblem(id, 'id');
  if (problem) throw invalidInput(problem);
  return { id, text: checkText(q.text), ...validFields(q) };
}

/** Questions checked and normalised, or an INVALID_INPUT naming the bad one. */
function validQuestions(questions: QuestionInput[]): NewQuestion[] {
  const seen = new Set<string>();
  return questions.map((q, i) => {
    let clean: NewQuestion;
    try {
      clean = validQuestion(q);
    } catch (err) {
      throw invalidInput(`question ${i + 1}: ${(err as Error).message}`);
    }
    if (seen.has(clean.id)) throw invalidInput(`id '${clean.id}' appears twice`);
    seen.add(clean.id);
    return clean;
  });
}

/** An error as an outcome says it: Doppel's own code, else INTERNAL. */
const errorOf = (err: unknown): { code: ErrorCode; message: string } => (err instanceof DoppelError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'internal error' });

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sameFields = (a: QuestionFields, b: QuestionFields) => a.category === b.category && a.url === b.url && sameJson(a.metadata, b.metadata);
