import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Pair } from '../../data/pairs.js';
import { DoppelError } from '../../errors.js';
import type { Model } from '../../model/load.js';
import { LruCache } from '../../util/lru-cache.js';
import type { FusionWeights } from '../fusion.js';
import { DEFAULT_HNSW, type HnswParams, type IndexStats, type NewFeedback, type OpenOptions, type SearchOptions, type StoredQuestion, type UpsertPlan } from '../backend.js';
import { DEFAULT_FUSION, type DenseCandidate, definedOnly, ENCODE_BATCH, energiesTo, IndexCore, type LexicalCandidate, refuseOtherModel, type StageOptions, type StoreModels } from '../index-core.js';
import { LexicalIndex } from '../lexical/lexical-index.js';
import { indexPath, manifestPath } from './paths.js';
import { QuestionStore } from './store.js';
import { searchByEnergy, spaceFor, VectorIndex } from './vector-index.js';

/**
 * A category this small is searched exactly over its members' stored vectors: a graph search
 * filtered to a rare category would walk most of the graph to find k members (Qdrant switches
 * to a full scan of small filtered sets for the same reason).
 */
export const EXACT_CATEGORY_MAX = 3000;
/** Staged vectors added to the next graph between two yields to the event loop (a few milliseconds of work). */
const GRAPH_CHUNK = 16;
/** Categories whose members (vectors of a small one, labels of a large one) are kept in memory. */
const CATEGORY_CACHE_SIZE = 16;

/** How a category's dense search runs: a scan of its few vectors, or a filtered graph search. */
type CategoryView = { scan: Map<number, Float32Array> } | { members: Set<number> };

/**
 * The directory store: SQLite holds the truth, an HNSW graph in memory answers nearest-energy
 * queries and an in-memory inverted index BM25 ones (both built from the store and kept in step
 * with it). New questions are searchable as soon as they are added, with no retraining.
 */
export class DirectoryIndex extends IndexCore {
  private readonly categoryCache = new LruCache<CategoryView>(CATEGORY_CACHE_SIZE);
  /** The store generation `counts` were last read at (a read-only index recounts after the writer's changes). */
  private countedGeneration: number;
  /** Built on first use (see lexicalIndex): a command that only writes never pays for it. */
  private lexicalState?: LexicalIndex;

  private constructor(
    private readonly dir: string,
    private readonly store: QuestionStore,
    /** The graph of the model serving; replaced whole when another model takes over. */
    private vectors: VectorIndex,
    model: Model,
    fusion: FusionWeights,
    readonly: boolean,
    /** The last store change applied to the graph in memory. */
    private applied: number,
    /** The last store change in the saved graph (-1: none saved). */
    private savedGeneration: number,
    /** Kept in step with writes, so that stats (and /metrics) never scan the store. */
    private readonly counts: { live: number; total: number; feedback: number },
    private readonly log: (message: string) => void,
  ) {
    super(model, fusion, readonly);
    this.countedGeneration = store.generation;
  }

  static async open(dir: string, options: OpenOptions): Promise<DirectoryIndex> {
    const { model } = options;
    const log = options.log ?? (() => {});
    const store = new QuestionStore(dir, { readonly: options.readonly });
    try {
      const space = spaceFor(model.files.config.energy);
      const dim = model.encoder.dim;
      const params: HnswParams = { ...DEFAULT_HNSW, ...definedOnly(options.hnsw ?? {}) };
      if (!options.readonly) {
        removeTemporaries(dir);
        refuseOtherModel(store.meta('model_id'), model, store.counts().live, { reencode: options.reencode, where: dir });
        await DirectoryIndex.reencode(store, model, options);
      }
      const loaded = VectorIndex.load(indexPath(dir), manifestPath(dir), { modelId: model.id, space, dim });
      let vectors: VectorIndex;
      let applied: number;
      if (loaded && loaded.manifest.generation <= store.generation) {
        vectors = loaded.index;
        if (options.hnsw?.ef) vectors.ef = options.hnsw.ef;
        const caught = DirectoryIndex.catchUp(store, { vectors }, loaded.manifest.generation, model.id);
        if (caught.changes > 0) log(`vector index: applied ${caught.changes} changes made after it was last saved`);
        applied = caught.generation;
      } else {
        if (store.counts().live > 0) log(`vector index: ${loaded ? 'ahead of the store' : 'missing, unreadable or from another model'}; rebuilding from stored embeddings`);
        // Read first: a change landing during the rebuild is then applied again, which is harmless.
        applied = store.generation;
        vectors = DirectoryIndex.rebuild(store, space, dim, params, model.id, options.onProgress);
      }
      const fusion = { ...DEFAULT_FUSION, ...definedOnly(options.fusion ?? {}) };
      const saved = loaded?.index === vectors ? loaded.manifest.generation : -1;
      const index = new DirectoryIndex(dir, store, vectors, model, fusion, Boolean(options.readonly), applied, saved, store.counts(), log);
      if (!options.readonly) {
        store.setMeta('model_id', model.id);
        store.setMeta('model_dir', resolve(model.files.dir));
        index.saveGraph();
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
        throw new DoppelError('STORE_ERROR', `the store holds embeddings of model ${row.model_id}, not ${modelId}: use that model, or switch the store to this one with doppel model activate`);
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
      // Slips are mended towards the encoder's whole words as well as the store's.
      const lexical = new LexicalIndex({ lexicon: this.model.files.tokenizer.tokens().filter((t) => /^[a-z]+$/.test(t)) });
      for (const row of this.store.liveTexts()) lexical.add(row.label, row.text);
      DirectoryIndex.catchUp(this.store, { lexical }, generation, this.model.id);
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
    this.applied = DirectoryIndex.catchUp(this.store, { vectors: this.vectors, lexical: this.lexicalState }, this.applied, this.model.id).generation;
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
      else DirectoryIndex.catchUp(this.store, { vectors: this.vectors, lexical: this.lexicalState }, this.applied, this.model.id);
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

  protected async writePlan(plan: UpsertPlan, encoded: Float32Array, modelId: string): Promise<StoredQuestion[]> {
    this.sameModel(modelId);
    const dim = this.model.encoder.dim;
    const { questions: stored, generation } = this.store.write(plan, encoded, dim, this.model.id);
    const fresh = stored.slice(0, plan.create.length + plan.replace.length);
    const old = plan.replace.map((r) => r.current);
    for (const q of old) this.lexicalState?.remove(q.label, q.text);
    for (const q of fresh) this.lexicalState?.add(q.label, q.text);
    this.counts.live += plan.create.length;
    this.counts.total += plan.create.length;
    const vectorOf = (i: number) => encoded.slice(i * dim, (i + 1) * dim);
    // A question whose category changed leaves its old category's view and joins the new one's.
    const moved = plan.update.filter((u) => u.current.category !== (u.question.category ?? null));
    const movedVectors = moved.length > 0 ? this.store.embeddings(moved.map((u) => u.current.label)) : new Map<number, Float32Array>();
    this.applyWrite(
      generation,
      () => {
        for (const q of old) this.vectors.remove(q.label);
        fresh.forEach((q, i) => this.vectors.add(q.label, encoded.subarray(i * dim, (i + 1) * dim)));
      },
      [
        ...old.map((q) => ({ label: q.label, category: q.category })),
        ...fresh.map((q, i) => ({ label: q.label, category: q.category, vector: vectorOf(i) })),
        ...moved.flatMap((u) => [
          { label: u.current.label, category: u.current.category },
          { label: u.current.label, category: u.question.category ?? null, vector: movedVectors.get(u.current.label) },
        ]),
      ],
    );
    return stored;
  }

  protected async rowsById(ids: string[]): Promise<Map<string, StoredQuestion>> {
    return this.store.rowsById(ids);
  }

  protected async listRows(after: string | undefined, limit: number): Promise<StoredQuestion[]> {
    return this.store.listLive(after ?? '', limit);
  }

  protected async removeRow(id: string): Promise<StoredQuestion> {
    const { question, generation } = this.store.remove(id);
    this.lexicalState?.remove(question.label, question.text);
    this.counts.live--;
    this.applyWrite(generation, () => this.vectors.remove(question.label), [{ label: question.label, category: question.category }]);
    return question;
  }

  /**
   * Follows the writer first (a read-only index), then, with typos on (the default, for every
   * search: a finished text is judged as its last keystroke's suggestions were), reads words that look like slips as the corpus word they were meant to be: both
   * halves search the mended text, for the encoder, too, knows "python", not "pyhton".
   */
  protected override async queryTexts(texts: string[], options: Omit<SearchOptions, 'exclude'>): Promise<string[]> {
    this.follow();
    const typos = options.typos ?? true;
    return typos ? texts.map((t) => this.lexicalIndex.correct(t, { prefix: options.prefix })) : texts;
  }

  /** The store's last change (a read of one row): changes when any process writes. */
  get generation(): number {
    return this.store.generation;
  }

  async get(id: string): Promise<StoredQuestion | undefined> {
    return this.store.get(id);
  }

  protected async labelsOf(ids: string[]): Promise<Set<number>> {
    return new Set(ids.flatMap((id) => this.store.getAny(id)?.label ?? []));
  }

  protected async storeFeedback(row: NewFeedback): Promise<number> {
    const id = this.store.addFeedback(row);
    this.counts.feedback++;
    return id;
  }

  async feedbackPairs(): Promise<Pair[]> {
    return this.store.feedbackPairs();
  }

  protected async storedVectors(labels: number[]): Promise<Map<number, Float32Array>> {
    return this.store.embeddings(labels);
  }

  protected async questionsByLabel(labels: number[]): Promise<Map<number, StoredQuestion>> {
    return new Map(labels.flatMap((label) => {
      const q = this.store.byLabel(label);
      return q ? [[label, q] as const] : [];
    }));
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

  protected async dense(query: Float32Array, k: number, category: string | undefined, excluded: Set<number>): Promise<DenseCandidate[]> {
    const view = category === undefined ? undefined : this.categoryView(category);
    if (view && 'scan' in view) return this.scan(query, k, view.scan, excluded);
    const allowed = view?.members;
    const filter = allowed || excluded.size > 0 ? (label: number) => !excluded.has(label) && (!allowed || allowed.has(label)) : undefined;
    const trueEnergies = (labels: number[]) => energiesTo(this.model, query, this.store.embeddings(labels));
    return searchByEnergy(this.vectors, query, k, this.model.files.config.energy, trueEnergies, filter);
  }

  /** BM25 candidates, best first, in the category and not excluded. */
  protected async lexical(text: string, k: number, options: SearchOptions, excluded: Set<number>): Promise<LexicalCandidate[]> {
    const view = options.category === undefined ? undefined : this.categoryView(options.category);
    const members = view && ('scan' in view ? view.scan : view.members);
    const accept = members || excluded.size > 0 ? (label: number) => !excluded.has(label) && (!members || members.has(label)) : undefined;
    return this.lexicalIndex.search(text, k, { prefix: options.prefix, typos: options.typos ?? true, accept });
  }

  /** The graph of a model being activated, and the store generation its deletions are applied to. */
  private staging?: { model: Model; vectors: VectorIndex; generation: number };

  async models(): Promise<StoreModels> {
    const meta = (key: string) => this.store.meta(key);
    const activating = meta('activation_model_id');
    const previous = meta('previous_model_id');
    return {
      current: { id: this.model.id, dir: meta('model_dir') ?? null },
      previous: previous ? { id: previous, dir: meta('previous_model_dir') ?? null } : undefined,
      activating: activating ? { id: activating, dir: meta('activation_model_dir') ?? null } : undefined,
    };
  }

  /**
   * Encodes every live question with `next` into the staged vectors and a graph of its own, beside
   * the serving ones: what was staged before (an interrupted activation, or the previous model's
   * vectors after a switch) is kept, deletions since are taken out of the new graph, and
   * `pace` lets a server give its requests the processor between batches.
   */
  async stage(next: Model, options: StageOptions = {}): Promise<void> {
    this.writable();
    if (next.id === this.model.id) return;
    this.store.startActivation({ id: next.id, dir: resolve(next.files.dir) });
    const batch = options.batch ?? 256;
    /** Into the graph a few at a time: a server's requests run in between. */
    const addAll = async (vectors: VectorIndex, rows: Iterable<[number, Float32Array]>) => {
      let i = 0;
      for (const [label, vector] of rows) {
        vectors.add(label, vector, true);
        if (options.pace && ++i % GRAPH_CHUNK === 0) await new Promise((r) => setImmediate(r));
      }
    };
    if (this.staging?.model.id !== next.id) {
      const generation = this.store.generation;
      const vectors = VectorIndex.create(spaceFor(next.files.config.energy), next.encoder.dim, this.vectors.params, Math.max(1024, this.counts.live));
      // What an interrupted activation staged, read a page at a time (the connection stays free for writes in between).
      for (let after = 0; ; ) {
        const page = this.store.stagedLive(next.id, after, batch);
        if (page.size === 0) break;
        await addAll(vectors, page);
        after = Math.max(...page.keys());
      }
      this.staging = { model: next, vectors, generation };
    }
    const staging = this.staging;
    let staged = staging.vectors.size;
    // New questions take higher labels: one walk in label order meets them too.
    for (let after = 0; ; ) {
      this.dropRemoved(staging);
      const rows = this.store.unstaged(next.id, after, batch);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].label;
      const started = performance.now();
      const encoded = await next.encoder.encode(rows.map((r) => r.text));
      const dim = next.encoder.dim;
      this.store.stage(rows.map((r) => r.label), encoded, dim, next.id);
      await addAll(staging.vectors, rows.map((r, i): [number, Float32Array] => [r.label, encoded.subarray(i * dim, (i + 1) * dim)]));
      staged += rows.length;
      options.onProgress?.(Math.min(staged, this.counts.live), this.counts.live);
      await options.pace?.(performance.now() - started);
    }
  }

  /** Takes the questions removed (or replaced) since the staging graph last looked out of it. */
  private dropRemoved(staging: { vectors: VectorIndex; generation: number }): void {
    for (const row of this.store.changedSince(staging.generation)) {
      staging.generation = Math.max(staging.generation, row.generation);
      if (row.deleted) staging.vectors.remove(row.label);
    }
  }

  async switchModel(next: Model): Promise<void> {
    this.writable();
    const model = { id: next.id, dir: resolve(next.files.dir) };
    const previous = { id: this.model.id, dir: this.store.meta('model_dir') ?? null };
    if (next.id !== this.model.id) {
      // The questions written since staging last ran, then the switch: nothing else runs in between (the caller holds requests).
      await this.stage(next);
      const staging = this.staging!;
      this.dropRemoved(staging);
      const generation = this.store.swapEmbeddings(model, previous);
      this.vectors = staging.vectors;
      this.applied = generation;
      this.savedGeneration = -1;
      this.staging = undefined;
    } else {
      // The same vectors (a refit verdict, say): nothing to swap, but a rollback returns to the directory served until now.
      this.store.recordSwitch(model, previous);
    }
    this.model = next;
    this.categoryCache.clear();
    // The new graph is saved by the next save() (a server's saver, a close): until then a crash
    // rebuilds it from the stored vectors, and the switch does not wait for a file write.
  }

  async discardActivation(): Promise<void> {
    this.writable();
    this.staging = undefined;
    this.store.forgetActivation();
  }

  /**
   * What the index holds, from memory (cheap enough for every health check and scrape);
   * `categories: true` adds the live questions per category, which scans the store.
   */
  async stats(options: { categories?: boolean } = {}): Promise<IndexStats> {
    // A read-only index learns of the writer's changes by reading the store: its own counts
    // would stay as they were at the last search otherwise.
    const generation = this.store.generation;
    if (this.readonly && generation !== this.countedGeneration) {
      // Counted as of `generation` or later: a write in between is counted again next time.
      this.follow();
      Object.assign(this.counts, this.store.counts());
      this.countedGeneration = generation;
    }
    // Counted each time: review decisions write feedback on a connection of their own.
    this.counts.feedback = this.store.feedbackCount();
    const counts = this.counts;
    return {
      backend: 'directory',
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
      lexical: 'memory',
      categories: options.categories ? this.store.categories() : undefined,
    };
  }

  async save(): Promise<void> {
    this.saveGraph();
  }

  /** Saves the graph if it has changed since the last save, stamped with the last change it holds. */
  private saveGraph(): void {
    if (this.readonly || this.applied === this.savedGeneration) return;
    const generation = this.applied;
    this.vectors.save(indexPath(this.dir), manifestPath(this.dir), { modelId: this.model.id, generation });
    this.savedGeneration = generation;
  }

  async close(): Promise<void> {
    try {
      this.saveGraph();
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
