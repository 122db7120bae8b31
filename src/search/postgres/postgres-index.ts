import type { Pair } from '../../data/pairs.js';
import { DoppelError } from '../../errors.js';
import type { Model } from '../../model/load.js';
import type { FusionWeights } from '../fusion.js';
import { resolve } from 'node:path';
import { DEFAULT_HNSW, type IndexStats, type NewFeedback, type OpenOptions, type SearchOptions, type StageOptions, type StoredQuestion, type StoreModels, type UpsertPlan } from '../backend.js';
import { DEFAULT_FUSION, type DenseCandidate, definedOnly, IndexCore, type LexicalCandidate } from '../index-core.js';
import { forgetActivation, prepareNext, recordModelDir, recordSameVectors, stageRows, storeModels, swapColumns, unstaged } from './activation.js';
import { Database, poolSize, redactUrl } from './connection.js';
import { readFeedbackPairs } from './feedback.js';
import { fromVectorText, QUESTION_COLUMNS, type QuestionRow, toQuestion } from './rows.js';
import { DISTANCE, migrate, readSchema, type StoreMeta } from './schema.js';
import { searchDense } from './search-dense.js';
import { searchLexical } from './search-lexical.js';
import { insertFeedback, removeQuestion, writePlan } from './write.js';

/**
 * A store in PostgreSQL: questions, pgvector embeddings (HNSW), a BM25 index and feedback live
 * in the database, and this process keeps no state of its own, so any number of processes can
 * serve one store. Writes go to the store's URL; searches and reads to `readUrl` when given (a
 * read replica).
 */
export class PostgresIndex extends IndexCore {
  /** Many replicas write one database: no cheap generation, so a replica caches nothing across writes. */
  readonly generation = undefined;

  warm(): void {}

  private constructor(
    private readonly primary: Database,
    private readonly replica: Database,
    /** What the store was made with; a model switch changes its model, dimension and energy. */
    private meta: StoreMeta,
    private readonly ef: number,
    model: Model,
    fusion: FusionWeights,
    readonly: boolean,
  ) {
    super(model, fusion, readonly);
  }

  static async open(url: string, options: OpenOptions): Promise<PostgresIndex> {
    const { model } = options;
    const log = options.log ?? (() => {});
    const hnsw = { ...DEFAULT_HNSW, ...definedOnly(options.hnsw ?? {}) };
    const size = poolSize(options.poolSize);
    const primary = new Database(url, size, { efSearch: hnsw.ef }, log);
    const replica = options.readUrl ? new Database(options.readUrl, size, { efSearch: hnsw.ef }, log) : primary;
    try {
      const energy = model.files.config.energy;
      const meta = options.readonly ? await readSchema(replica) : await migrate(primary, { modelId: model.id, dim: model.encoder.dim, energy, hnsw });
      if (meta.modelId !== model.id || meta.dim !== model.encoder.dim || meta.energy !== energy) {
        throw new DoppelError(
          'CONFLICT',
          `the store at ${redactUrl(url)} holds embeddings of model ${meta.modelId} (${meta.dim}-d, ${meta.energy}), not ${model.id}: ` +
            `serve it with that model (the default: --model left out), or switch it to this one without downtime with doppel model activate --store <url> --model ${model.files.dir}`,
        );
      }
      if (!options.readonly) await recordModelDir(primary, resolve(model.files.dir));
      return new PostgresIndex(primary, replica, meta, hnsw.ef, model, { ...DEFAULT_FUSION, ...definedOnly(options.fusion ?? {}) }, Boolean(options.readonly));
    } catch (err) {
      await Promise.all([primary.end(), replica === primary ? undefined : replica.end()]);
      throw err;
    }
  }

  protected async removeRow(id: string): Promise<StoredQuestion> {
    return removeQuestion(this.primary, id);
  }

  protected writePlan(plan: UpsertPlan, vectors: Float32Array, modelId: string): Promise<StoredQuestion[]> {
    this.sameModel(modelId);
    return writePlan(this.primary, plan, vectors, this.model.encoder.dim, this.model.id);
  }

  /** Read on the primary: a replica that lags must not let an id be taken twice, and writes decide by it. */
  protected async rowsById(ids: string[]): Promise<Map<string, StoredQuestion>> {
    const rows = await this.primary.read<QuestionRow>(`SELECT ${QUESTION_COLUMNS} FROM doppel_questions WHERE id = ANY($1::text[])`, [ids]);
    return new Map(rows.map((r) => [r.id, toQuestion(r)]));
  }

  protected listRows(after: string | undefined, limit: number): Promise<StoredQuestion[]> {
    return this.replica
      .read<QuestionRow>(`SELECT ${QUESTION_COLUMNS} FROM doppel_questions WHERE NOT deleted AND id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`, [after ?? '', limit])
      .then((rows) => rows.map(toQuestion));
  }

  async get(id: string): Promise<StoredQuestion | undefined> {
    const [row] = await this.replica.read<QuestionRow>(`SELECT ${QUESTION_COLUMNS} FROM doppel_questions WHERE id = $1 AND NOT deleted`, [id]);
    return row && toQuestion(row);
  }

  protected async labelsOf(ids: string[]): Promise<Set<number>> {
    const rows = await this.replica.read<{ label: string }>('SELECT label FROM doppel_questions WHERE id = ANY($1::text[])', [ids]);
    return new Set(rows.map((r) => Number(r.label)));
  }

  protected dense(query: Float32Array, k: number, category: string | undefined, excluded: Set<number>): Promise<DenseCandidate[]> {
    return searchDense(this.replica, this.meta, this.model, query, k, category, excluded);
  }

  protected lexical(text: string, k: number, options: SearchOptions, excluded: Set<number>): Promise<LexicalCandidate[]> {
    return searchLexical(this.replica, this.meta.lexical, text, k, options, excluded);
  }

  protected async storedVectors(labels: number[]): Promise<Map<number, Float32Array>> {
    const rows = await this.replica.read<{ label: string; v: string }>('SELECT label, embedding::text AS v FROM doppel_questions WHERE label = ANY($1::bigint[])', [labels]);
    return new Map(rows.map((r) => [Number(r.label), fromVectorText(r.v)]));
  }

  protected async questionsByLabel(labels: number[]): Promise<Map<number, StoredQuestion>> {
    const rows = await this.replica.read<QuestionRow>(`SELECT ${QUESTION_COLUMNS} FROM doppel_questions WHERE label = ANY($1::bigint[])`, [labels]);
    return new Map(rows.map((r) => [Number(r.label), toQuestion(r)]));
  }

  protected storeFeedback(row: NewFeedback): Promise<number> {
    return insertFeedback(this.primary, row);
  }

  feedbackPairs(): Promise<Pair[]> {
    return readFeedbackPairs(this.replica);
  }

  async stats(options: { categories?: boolean } = {}): Promise<IndexStats> {
    const [counts] = await this.replica.read<{ live: string; deleted: string; feedback: string }>(
      'SELECT count(*) FILTER (WHERE NOT deleted) AS live, count(*) FILTER (WHERE deleted) AS deleted, (SELECT count(*) FROM doppel_feedback) AS feedback FROM doppel_questions',
    );
    const live = Number(counts.live);
    const categories = options.categories
      ? (await this.replica.read<{ category: string; n: string }>(
          'SELECT category, count(*) AS n FROM doppel_questions WHERE NOT deleted AND category IS NOT NULL GROUP BY category ORDER BY n DESC, category',
        )).map((r) => ({ category: r.category, n: Number(r.n) }))
      : undefined;
    return {
      backend: 'postgres',
      questions: live,
      deleted: Number(counts.deleted),
      feedback: Number(counts.feedback),
      indexed: live,
      capacity: live,
      dim: this.meta.dim,
      space: DISTANCE[this.meta.energy].space,
      hnsw: { m: this.meta.m, efConstruction: this.meta.efConstruction, ef: this.ef },
      model: this.model.id,
      energy: this.meta.energy,
      lexical: this.meta.lexical,
      categories,
    };
  }

  models(): Promise<StoreModels> {
    return storeModels(this.primary, this.model.id);
  }

  async stage(next: Model, options: StageOptions = {}): Promise<void> {
    this.writable();
    if (next.id === this.model.id) return;
    const { m, efConstruction } = this.meta;
    await prepareNext(this.primary, { modelId: next.id, dim: next.encoder.dim, energy: next.files.config.energy, m, efConstruction }, resolve(next.files.dir));
    const [{ n }] = await this.primary.query<{ n: string }>('SELECT count(*) AS n FROM doppel_questions');
    const [{ left }] = await this.primary.query<{ left: string }>('SELECT count(*) AS left FROM doppel_questions WHERE next_model_id IS DISTINCT FROM $1', [next.id]);
    const total = Number(n);
    let staged = total - Number(left);
    // New questions take higher labels: one walk in label order meets them too (a replaced text is staged again by the switch's own pass).
    for (let after = '0'; ; ) {
      const rows = await unstaged(this.primary, next.id, after, options.batch ?? 256);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].label;
      const started = performance.now();
      const encoded = await next.encoder.encode(rows.map((r) => r.text));
      await stageRows(this.primary, rows.map((r) => r.label), encoded, next.encoder.dim, next.id);
      staged += rows.length;
      options.onProgress?.(Math.min(staged, total), total);
      await options.pace?.(performance.now() - started);
    }
  }

  async switchModel(next: Model): Promise<void> {
    this.writable();
    if (next.id !== this.model.id) {
      const energy = next.files.config.energy;
      // Another replica may write between the last batch and the switch: the switch refuses, and the new rows are staged.
      for (let attempt = 0; ; attempt++) {
        await this.stage(next);
        try {
          await swapColumns(this.primary, this.meta, { modelId: next.id, dim: next.encoder.dim, energy, dir: resolve(next.files.dir) });
          break;
        } catch (err) {
          if (!(err instanceof DoppelError && err.code === 'CONFLICT') || attempt >= 5) throw err;
        }
      }
      this.meta = { ...this.meta, modelId: next.id, dim: next.encoder.dim, energy };
    } else {
      // The same vectors (a refit verdict, say): nothing to swap, but a rollback returns to the directory served until now.
      await recordSameVectors(this.primary, this.model.id, resolve(next.files.dir));
    }
    this.model = next;
  }

  discardActivation(): Promise<void> {
    return forgetActivation(this.primary);
  }

  /** Every write is durable when it returns: nothing is kept in memory. */
  async save(): Promise<void> {}

  async close(): Promise<void> {
    await Promise.all([this.primary.end(), this.replica === this.primary ? undefined : this.replica.end()]);
  }
}
