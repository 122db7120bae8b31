import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DoppelError, invalidInput } from '../errors.js';
import type { Model } from '../model/load.js';
import { checkText, nameProblem } from '../text/validate.js';
import { LruCache } from '../util/lru-cache.js';
import { type FusionWeights, fuseScores } from './fusion.js';
import { LexicalIndex } from './lexical/lexical-index.js';
import { indexPath, manifestPath } from './paths.js';
import { type NewQuestion, QuestionStore, type StoredQuestion } from './store.js';
import { DEFAULT_HNSW, type HnswParams, searchByEnergy, spaceFor, VectorIndex } from './vector-index.js';

export const SEARCH_MODES = ['dense', 'lexical', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export interface SearchOptions {
  k?: number;
  mode?: SearchMode;
  category?: string;
  /** External ids left out of the results (e.g. the query's own entry). */
  exclude?: string[];
  /** Treat the last word as a prefix (search-as-you-type). */
  prefix?: boolean;
  /** Read words that look like slips as the corpus word one edit away. Default: with `prefix`. */
  typos?: boolean;
}

export interface IndexStats {
  questions: number;
  deleted: number;
  feedback: number;
  indexed: number;
  capacity: number;
  dim: number;
  space: 'l2' | 'cosine';
  hnsw: HnswParams;
  model: string;
  energy: string;
  /** The store's last change, the last one applied to the graph in memory, and in the saved graph. */
  generation: number;
  appliedGeneration: number;
  savedGeneration: number;
  categories?: { category: string; n: number }[];
}

export interface QuestionInput {
  id?: string;
  text: string;
  category?: string | null;
}

export interface Hit {
  id: string;
  text: string;
  category: string | null;
  energy: number;
  probability: number;
  isDuplicate: boolean;
}

export interface OpenOptions {
  model: Model;
  hnsw?: Partial<HnswParams>;
  fusion?: Partial<FusionWeights>;
  readonly?: boolean;
  /** Reports long jobs (re-encoding, rebuilding the graph). */
  onProgress?: (task: string, done: number, total: number) => void;
  log?: (message: string) => void;
}

const definedOnly = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The energy's weight against normalised BM25; chosen on the held-out Quora retrieval task. */
export const DEFAULT_FUSION: FusionWeights = { alpha: 1 };
const ENCODE_BATCH = 512;
/**
 * A category this small is searched exactly over its members' stored vectors: a graph search
 * filtered to a rare category would walk most of the graph to find k members (Qdrant switches
 * to a full scan of small filtered sets for the same reason).
 */
export const EXACT_CATEGORY_MAX = 3000;
/** Categories whose members (vectors of a small one, labels of a large one) are kept in memory. */
const CATEGORY_CACHE_SIZE = 16;

/** How a category's dense search runs: a scan of its few vectors, or a filtered graph search. */
type CategoryView = { scan: Map<number, Float32Array> } | { members: Set<number> };

/**
 * Known questions, encoded once: SQLite holds the truth, an HNSW graph answers nearest-energy
 * queries and an in-memory inverted index BM25 ones (both built from the store and kept in step
 * with it). New questions are searchable as soon as they are added, with no retraining.
 */
export class DuplicateIndex {
  private readonly categoryCache = new LruCache<CategoryView>(CATEGORY_CACHE_SIZE);
  /** Built on first use (see lexicalIndex): a command that only writes never pays for it. */
  private lexicalState?: LexicalIndex;

  private constructor(
    private readonly dir: string,
    private readonly store: QuestionStore,
    private readonly vectors: VectorIndex,
    /** The model whose vectors the index holds: queries must be encoded with it. */
    readonly model: Model,
    private readonly fusion: FusionWeights,
    private readonly readonly: boolean,
    /** The last store change applied to the graph in memory. */
    private applied: number,
    /** The last store change in the saved graph (-1: none saved). */
    private savedGeneration: number,
    /** Kept in step with writes, so that stats (and /metrics) never scan the store. */
    private readonly counts: { live: number; total: number; feedback: number },
    private readonly log: (message: string) => void,
  ) {}

  static async open(dir: string, options: OpenOptions): Promise<DuplicateIndex> {
    const { model } = options;
    const log = options.log ?? (() => {});
    const store = new QuestionStore(dir, { readonly: options.readonly });
    try {
      const space = spaceFor(model.files.config.energy);
      const dim = model.encoder.dim;
      const params: HnswParams = { ...DEFAULT_HNSW, ...definedOnly(options.hnsw ?? {}) };
      if (!options.readonly) {
        removeTemporaries(dir);
        await DuplicateIndex.reencode(store, model, options);
      }
      const loaded = VectorIndex.load(indexPath(dir), manifestPath(dir), { modelId: model.id, space, dim });
      let vectors: VectorIndex;
      let applied: number;
      if (loaded && loaded.manifest.generation <= store.generation) {
        vectors = loaded.index;
        if (options.hnsw?.ef) vectors.ef = options.hnsw.ef;
        const caught = DuplicateIndex.catchUp(store, { vectors }, loaded.manifest.generation, model.id);
        if (caught.changes > 0) log(`vector index: applied ${caught.changes} changes made after it was last saved`);
        applied = caught.generation;
      } else {
        if (store.counts().live > 0) log(`vector index: ${loaded ? 'ahead of the store' : 'missing, unreadable or from another model'}; rebuilding from stored embeddings`);
        // Read first: a change landing during the rebuild is then applied again, which is harmless.
        applied = store.generation;
        vectors = DuplicateIndex.rebuild(store, space, dim, params, model.id, options.onProgress);
      }
      const fusion = { ...DEFAULT_FUSION, ...definedOnly(options.fusion ?? {}) };
      const saved = loaded?.index === vectors ? loaded.manifest.generation : -1;
      const index = new DuplicateIndex(dir, store, vectors, model, fusion, Boolean(options.readonly), applied, saved, store.counts(), log);
      if (!options.readonly) {
        store.setMeta('model_id', model.id);
        index.save();
      }
      return index;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /** Encodes live questions whose embedding is missing or from another model. */
  private static async reencode(store: QuestionStore, model: Model, options: OpenOptions): Promise<void> {
    const stale = store.staleQuestions(model.id);
    if (stale.length === 0) return;
    options.log?.(`re-encoding ${stale.length} questions with model ${model.id}`);
    for (let i = 0; i < stale.length; i += ENCODE_BATCH) {
      const batch = stale.slice(i, i + ENCODE_BATCH);
      const vectors = await model.encoder.encode(batch.map((q) => q.text));
      store.putEmbeddings(batch.map((q) => q.label), vectors, model.encoder.dim, model.id);
      options.onProgress?.('re-encoding', Math.min(stale.length, i + ENCODE_BATCH), stale.length);
    }
  }

  private static rebuild(store: QuestionStore, space: 'l2' | 'cosine', dim: number, params: HnswParams, modelId: string, onProgress?: OpenOptions['onProgress']): VectorIndex {
    const total = store.counts().live;
    const vectors = VectorIndex.create(space, dim, params, Math.max(1024, total));
    let done = 0;
    for (const row of store.liveEmbeddings()) {
      if (row.model_id !== modelId) {
        throw new DoppelError('STORE_ERROR', `the store holds embeddings of model ${row.model_id}, not ${modelId}: open it for writing once with this model to re-encode (e.g. doppel serve --store <dir> --model <dir>)`);
      }
      vectors.add(row.label, new Float32Array(row.vector.buffer, row.vector.byteOffset, dim));
      if (++done % 1000 === 0 || done === total) onProgress?.('building the vector index', done, total);
    }
    return vectors;
  }

  /**
   * Applies the store's changes after `generation` to the graph, and to the lexical index when
   * given (a crash before the graph's save, or writes this process has not seen); returns how
   * many and the last change applied. Replaying a change is harmless for both.
   */
  private static catchUp(store: QuestionStore, to: { vectors?: VectorIndex; lexical?: LexicalIndex }, generation: number, modelId: string): { changes: number; generation: number } {
    const { vectors, lexical } = to;
    let changes = 0;
    let last = generation;
    for (const row of store.changedSince(generation)) {
      changes++;
      last = Math.max(last, row.generation);
      if (row.deleted) lexical?.remove(row.label, row.text);
      else lexical?.add(row.label, row.text);
      if (!vectors) continue;
      if (row.deleted || !row.vector || row.model_id !== modelId) vectors.remove(row.label);
      else vectors.add(row.label, new Float32Array(row.vector.buffer, row.vector.byteOffset, vectors.dim), true);
    }
    return { changes, generation: last };
  }

  /**
   * The lexical index, built from the live rows at first use (seconds at a million questions)
   * and kept in step from then on: rows read at generation g, then the changes after g replayed
   * (a change read twice is harmless).
   */
  private get lexicalIndex(): LexicalIndex {
    if (!this.lexicalState) {
      const generation = this.store.generation;
      const lexical = new LexicalIndex();
      for (const row of this.store.liveTexts()) lexical.add(row.label, row.text);
      DuplicateIndex.catchUp(this.store, { lexical }, generation, this.model.id);
      this.lexicalState = lexical;
    }
    return this.lexicalState;
  }

  /** Builds now what the first search would build: a server calls it before it listens. */
  warm(): void {
    void this.lexicalIndex;
  }

  /**
   * A read-only index follows the store's writer: before a search it applies the changes
   * committed since it last looked (one read of the generation when there are none).
   */
  private follow(): void {
    if (!this.readonly || this.store.generation === this.applied) return;
    this.applied = DuplicateIndex.catchUp(this.store, { vectors: this.vectors, lexical: this.lexicalState }, this.applied, this.model.id).generation;
    this.categoryCache.clear();
  }

  /**
   * Brings the graph and the cached category views to a committed store write of generation
   * `generation`: directly when it is the next change, else (the graph stayed behind after an
   * earlier failure) by replaying every change since the last one applied. The write is durable
   * already, so a failure here is logged, not reported as a failed write: the graph stays behind
   * and the next write, or the next start, catches it up from the store.
   */
  private applyWrite(generation: number, direct: () => void, changed: { label: number; category: string | null; vector?: Float32Array }[]): void {
    try {
      if (generation === this.applied + 1) direct();
      else DuplicateIndex.catchUp(this.store, { vectors: this.vectors, lexical: this.lexicalState }, this.applied, this.model.id);
      this.applied = generation;
    } catch (err) {
      this.log(`vector index: change ${generation} is stored but not yet in the graph (${(err as Error).message}); the next write or start applies it`);
    }
    for (const { label, category, vector } of changed) {
      const view = category === null ? undefined : this.categoryCache.get(category);
      if (!view) continue;
      if ('members' in view) vector ? view.members.add(label) : view.members.delete(label);
      else if (!vector) view.scan.delete(label);
      else if (view.scan.size < EXACT_CATEGORY_MAX) view.scan.set(label, vector);
      else this.categoryCache.delete(category!); // grown past a scan: built again as a member set
    }
  }

  private writable(): void {
    if (this.readonly) throw new DoppelError('STORE_ERROR', 'this index was opened read-only');
  }

  /**
   * Validates, encodes and stores questions, all or nothing, and makes them searchable at once.
   * An id is generated where none is given.
   */
  async add(questions: QuestionInput[]): Promise<StoredQuestion[]> {
    return this.insert(questions);
  }

  /**
   * Search, then insert: the stored questions the new one duplicates (as they were before it was
   * added; `k` nearest by hybrid search in its category), and the stored question. The text is
   * encoded once for both.
   */
  async addIfNew(question: QuestionInput, options: { k?: number } = {}): Promise<{ question: StoredQuestion; duplicates: Hit[] }> {
    this.writable();
    if (question.id !== undefined && this.has(question.id)) throw new DoppelError('CONFLICT', `a question with id '${question.id}' already exists`);
    const text = checkText(question.text);
    const vector = await this.model.encoder.encode([text]);
    const before = this.searchEncoded(text, vector, { k: options.k ?? 5, mode: 'hybrid', category: question.category ?? undefined });
    const [stored] = await this.insert([{ ...question, text }], vector);
    return { question: stored, duplicates: before.filter((h) => h.isDuplicate) };
  }

  /** `vectors` skips encoding texts the caller has already encoded (row i for question i). */
  private async insert(questions: QuestionInput[], vectors?: Float32Array): Promise<StoredQuestion[]> {
    this.writable();
    const seen = new Set<string>();
    const clean: NewQuestion[] = questions.map((q, i) => {
      const id = q.id === undefined || q.id === null ? randomUUID() : String(q.id).trim();
      const category = q.category ? String(q.category).trim() : null;
      const problem = nameProblem(id, 'id') ?? (category ? nameProblem(category, 'category') : undefined);
      if (problem) throw invalidInput(`question ${i + 1}: ${problem}`);
      if (seen.has(id)) throw invalidInput(`id '${id}' appears twice`);
      seen.add(id);
      if (this.store.getAny(id)) throw new DoppelError('CONFLICT', `a question with id '${id}' already exists`);
      return { id, text: checkText(q.text), category: category || null };
    });
    if (clean.length === 0) return [];
    const dim = this.model.encoder.dim;
    if (vectors && vectors.length !== clean.length * dim) throw invalidInput(`expected ${clean.length} vectors of ${dim} values`);
    const encoded = vectors ?? (await this.model.encoder.encode(clean.map((q) => q.text)));
    const { questions: stored, generation } = this.store.insert(clean, encoded, dim, this.model.id);
    for (const q of stored) this.lexicalState?.add(q.label, q.text);
    this.counts.live += stored.length;
    this.counts.total += stored.length;
    const vectorOf = (i: number) => encoded.slice(i * dim, (i + 1) * dim);
    this.applyWrite(
      generation,
      () => stored.forEach((q, i) => this.vectors.add(q.label, encoded.subarray(i * dim, (i + 1) * dim))),
      stored.map((q, i) => ({ label: q.label, category: q.category, vector: vectorOf(i) })),
    );
    return stored;
  }

  remove(id: string): StoredQuestion {
    this.writable();
    const { question, generation } = this.store.remove(id);
    this.lexicalState?.remove(question.label, question.text);
    this.counts.live--;
    this.applyWrite(generation, () => this.vectors.remove(question.label), [{ label: question.label, category: question.category }]);
    return question;
  }

  /** The store's last change (a read of one row): changes when any process writes. */
  get generation(): number {
    return this.store.generation;
  }

  /** A live question. */
  get(id: string): StoredQuestion | undefined {
    return this.store.get(id);
  }

  /** Whether the id is taken: by a live question, or by a removed one (ids are never reused). */
  has(id: string): boolean {
    return this.store.getAny(id) !== undefined;
  }

  async search(text: string, options: SearchOptions = {}): Promise<Hit[]> {
    return (await this.searchMany([{ text, exclude: options.exclude }], options))[0];
  }

  /** Many searches with the same options, the queries encoded in batches. */
  async searchMany(queries: { text: string; exclude?: string[] }[], options: Omit<SearchOptions, 'exclude'> = {}): Promise<Hit[][]> {
    this.follow();
    const typos = options.typos ?? Boolean(options.prefix);
    // A corrected text is what both halves search: the encoder, too, knows "python", not "pyhton".
    const texts = queries.map((q) => checkText(q.text)).map((t) => (typos ? this.lexicalIndex.correct(t, { prefix: options.prefix }) : t));
    const dim = this.model.encoder.dim;
    const results: Hit[][] = [];
    for (let start = 0; start < texts.length; start += ENCODE_BATCH) {
      // Encoded in every mode: lexical hits report their energy too.
      const vectors = await this.model.encoder.encode(texts.slice(start, start + ENCODE_BATCH));
      for (let i = start; i < Math.min(texts.length, start + ENCODE_BATCH); i++) {
        const j = i - start;
        results.push(this.searchEncoded(texts[i], vectors.subarray(j * dim, (j + 1) * dim), { ...options, exclude: queries[i].exclude }));
      }
    }
    return results;
  }

  /** Stores a moderator's verdict on a pair: texts, or ids of stored questions. */
  feedback(input: { a?: string; b?: string; aId?: string; bId?: string; isDuplicate: boolean }): number {
    this.writable();
    const side = (text: string | undefined, id: string | undefined) => {
      if (text !== undefined) return { text: checkText(text), id: null };
      const q = id === undefined ? undefined : this.get(id);
      if (!q) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
      return { text: q.text, id: q.id };
    };
    const a = side(input.a, input.aId);
    const b = side(input.b, input.bId);
    const id = this.store.addFeedback({ a: a.text, b: b.text, aId: a.id, bId: b.id, isDuplicate: input.isDuplicate });
    this.counts.feedback++;
    return id;
  }

  private searchEncoded(text: string, query: Float32Array, options: SearchOptions = {}): Hit[] {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw invalidInput('k must be an integer from 1 to 1000');
    const mode = options.mode ?? 'hybrid';
    if (!(SEARCH_MODES as readonly string[]).includes(mode)) throw invalidInput(`mode must be one of ${SEARCH_MODES.join(', ')}`);
    const excluded = new Set<number>();
    for (const id of options.exclude ?? []) {
      const q = this.store.getAny(id);
      if (q) excluded.add(q.label);
    }
    // Candidates per list for fusion: 50 measured best; search-as-you-type trades a little for speed.
    const pool = mode === 'hybrid' ? Math.max(options.prefix ? 20 : 50, 3 * k) : k;
    const dense = mode === 'lexical' ? [] : this.dense(query, pool, options.category, excluded);
    const lexical = mode === 'dense' ? [] : this.lexical(text, pool, options, excluded);
    const energies = new Map(dense.map((d) => [d.label, d.energy]));
    this.addEnergies(query, lexical.map((l) => l.label), energies);
    let labels: number[];
    if (mode === 'dense') labels = dense.map((d) => d.label);
    else if (mode === 'lexical') labels = lexical.map((l) => l.label);
    else labels = fuseScores(lexical, energies, this.fusion);
    return labels.slice(0, k).flatMap((label) => {
      const q = this.store.byLabel(label);
      if (!q || q.deleted) return [];
      const energy = energies.get(label) ?? NaN;
      return [{ id: q.id, text: q.text, category: q.category, energy, probability: this.model.probability(energy), isDuplicate: this.model.isDuplicate(energy) }];
    });
  }

  /** Energies of candidates the dense search did not score (lexical hits), from stored vectors. */
  private addEnergies(query: Float32Array, labels: number[], energies: Map<number, number>): void {
    const missing = labels.filter((l) => !energies.has(l));
    for (const [label, v] of this.store.embeddings(missing)) energies.set(label, this.model.energy.vectors(query, v));
  }

  private categoryView(category: string): CategoryView {
    let view = this.categoryCache.get(category);
    if (!view) {
      view = this.store.categorySize(category) <= EXACT_CATEGORY_MAX ? { scan: this.store.categoryEmbeddings(category) } : { members: this.store.labelsInCategory(category) };
      this.categoryCache.set(category, view);
    }
    return view;
  }

  /** Exact nearest energies over a small category's vectors. */
  private scan(query: Float32Array, k: number, vectors: Map<number, Float32Array>, excluded: Set<number>): { label: number; energy: number }[] {
    const scored: { label: number; energy: number }[] = [];
    for (const [label, v] of vectors) {
      if (!excluded.has(label)) scored.push({ label, energy: this.model.energy.vectors(query, v) });
    }
    return scored.sort((a, b) => a.energy - b.energy).slice(0, k);
  }

  private dense(query: Float32Array, k: number, category: string | undefined, excluded: Set<number>): { label: number; energy: number }[] {
    const view = category === undefined ? undefined : this.categoryView(category);
    if (view && 'scan' in view) return this.scan(query, k, view.scan, excluded);
    const allowed = view?.members;
    const filter = allowed || excluded.size > 0 ? (label: number) => !excluded.has(label) && (!allowed || allowed.has(label)) : undefined;
    const trueEnergies = (labels: number[]) => {
      const energies = new Map<number, number>();
      this.addEnergies(query, labels, energies);
      return energies;
    };
    return searchByEnergy(this.vectors, query, k, this.model.files.config.energy, trueEnergies, filter);
  }

  /** BM25 candidates, best first, in the category and not excluded. */
  private lexical(text: string, k: number, options: SearchOptions, excluded: Set<number>): { label: number; bm25: number }[] {
    const view = options.category === undefined ? undefined : this.categoryView(options.category);
    const members = view && ('scan' in view ? view.scan : view.members);
    const accept = members || excluded.size > 0 ? (label: number) => !excluded.has(label) && (!members || members.has(label)) : undefined;
    return this.lexicalIndex.search(text, k, { prefix: options.prefix, typos: options.typos ?? Boolean(options.prefix), accept });
  }

  /**
   * What the index holds, from memory (cheap enough for every health check and scrape);
   * `categories: true` adds the live questions per category, which scans the store.
   */
  stats(options: { categories?: boolean } = {}): IndexStats {
    const counts = this.counts;
    return {
      questions: counts.live,
      deleted: counts.total - counts.live,
      feedback: counts.feedback,
      indexed: this.vectors.size,
      capacity: this.vectors.capacity,
      dim: this.vectors.dim,
      space: this.vectors.space,
      hnsw: this.vectors.params,
      model: this.model.id,
      energy: this.model.files.config.energy,
      generation: this.store.generation,
      appliedGeneration: this.applied,
      savedGeneration: this.savedGeneration,
      categories: options.categories ? this.store.categories() : undefined,
    };
  }

  /** Saves the graph if it has changed since the last save, stamped with the last change it holds. */
  save(): void {
    if (this.readonly || this.applied === this.savedGeneration) return;
    const generation = this.applied;
    this.vectors.save(indexPath(this.dir), manifestPath(this.dir), { modelId: this.model.id, generation });
    this.savedGeneration = generation;
  }

  close(): void {
    try {
      this.save();
    } finally {
      this.store.close();
    }
  }
}

/** Half-written graph files of a writer that died mid-save (only the lease holder writes them). */
function removeTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { force: true });
  }
}
