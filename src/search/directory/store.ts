import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DoppelError } from '../../errors.js';
import type { FeedbackRecord, NewFeedback, NewQuestion, StoredQuestion, TransferRow, UpsertPlan } from '../backend.js';
import { databasePath } from './paths.js';
import { WriterLease } from './writer-lease.js';

interface QuestionRow {
  label: number;
  id: string;
  text: string;
  category: string | null;
  /** Absent in a store written before questions had them, until its writer adds the columns. */
  url?: string | null;
  metadata?: string | null;
  created_at: string;
  deleted: number;
}

/** API keys (api-keys.ts): hashes only. */
export const KEYS_TABLE = `CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  scope TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  origin TEXT,
  rate REAL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);`;

/** The review queue (review-queue.ts): pairs the model was unsure of, pending or decided. */
export const REVIEW_TABLE = `CREATE TABLE IF NOT EXISTS review_queue (
  id INTEGER PRIMARY KEY,
  fold_key TEXT NOT NULL UNIQUE,
  a_id TEXT,
  a_text TEXT NOT NULL,
  b_id TEXT,
  b_text TEXT NOT NULL,
  probability REAL NOT NULL,
  threshold REAL NOT NULL,
  priority REAL NOT NULL,
  copies INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'pending',
  reviewer TEXT,
  decided_at TEXT,
  feedback_id INTEGER,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_queue_pending ON review_queue(priority, id) WHERE status = 'pending';`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS questions (
  label INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  text TEXT NOT NULL,
  category TEXT,
  url TEXT,
  metadata TEXT,
  created_at TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  -- the store generation of this row's last change: lets a stale vector index catch up
  generation INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_category ON questions(category) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS questions_generation ON questions(generation);
CREATE TABLE IF NOT EXISTS embeddings (
  label INTEGER PRIMARY KEY REFERENCES questions(label),
  model_id TEXT NOT NULL,
  vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY,
  a_text TEXT NOT NULL,
  b_text TEXT NOT NULL,
  a_id TEXT,
  b_id TEXT,
  is_duplicate INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
${KEYS_TABLE}
${REVIEW_TABLE}
-- Vectors of a model being activated (model activate): swapped with embeddings when it takes
-- over, so that afterwards they hold the previous model's, for a rollback.
CREATE TABLE IF NOT EXISTS staged_embeddings (
  label INTEGER PRIMARY KEY REFERENCES questions(label),
  model_id TEXT NOT NULL,
  vector BLOB NOT NULL
);
`;

/** Columns added since the first schema: a writer adds what an older store lacks. */
const ADDED_COLUMNS: [table: string, column: string, type: string][] = [
  ['questions', 'url', 'TEXT'],
  ['questions', 'metadata', 'TEXT'],
  // Who decided a pair of the review queue.
  ['feedback', 'reviewer', 'TEXT'],
];

/** Copies each BLOB out: better-sqlite3 may reuse the buffer, and Float32Array needs alignment. */
const toVectors = (rows: { label: number; vector: Buffer }[]): Map<number, Float32Array> =>
  new Map(rows.map((r) => [r.label, new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength))]));

const toQuestion = (r: QuestionRow): StoredQuestion => ({
  label: r.label,
  id: r.id,
  text: r.text,
  category: r.category,
  url: r.url ?? null,
  metadata: r.metadata ? (JSON.parse(r.metadata) as StoredQuestion['metadata']) : null,
  createdAt: r.created_at,
  deleted: r.deleted === 1,
});

/**
 * The id a replaced row is kept under: it stays in the store (deleted) so that an index behind
 * can still take its old text out, and frees the id for the new row. Ids are trimmed, so no
 * question's id starts with a space.
 */
const retiredId = (label: number, id: string) => ` ${label} ${id}`;

/**
 * The source of truth: questions, their embeddings (float32 BLOBs tagged with the model that
 * made them) and labelled feedback (BM25 is built in memory from the texts). Every insert and removal bumps a
 * generation counter in the same transaction, so the vector index can tell whether it is behind
 * (re-encoded embeddings come with a new model id, which makes the graph rebuild instead).
 */
export class QuestionStore {
  readonly db: Database.Database;
  private readonly stmts;
  /** Held by a writable store from open to close: one writing process per store. */
  private readonly lease?: WriterLease;
  /**
   * Statements that name the columns a writer adds (ADDED_COLUMNS): prepared at the first write,
   * so that a read-only open of an older store, which lacks them, still works.
   */
  private writes?: { insert: Database.Statement; retire: Database.Statement; updateFields: Database.Statement };

  constructor(dir: string, options: { readonly?: boolean } = {}) {
    if (!options.readonly) mkdirSync(dir, { recursive: true });
    try {
      this.db = new Database(databasePath(dir), { readonly: Boolean(options.readonly), fileMustExist: Boolean(options.readonly) });
    } catch (err) {
      throw new DoppelError('STORE_ERROR', `cannot open store ${dir}: ${(err as Error).message}`);
    }
    // A writer waits for another's transaction instead of failing with SQLITE_BUSY.
    this.db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
      for (const [table, column, type] of ADDED_COLUMNS) {
        const has = (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
        if (!has) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
      try {
        this.lease = WriterLease.acquire(this.db, dir);
      } catch (err) {
        this.db.close();
        throw err;
      }
      // BM25 is served from memory (search/lexical); stores written before that kept an FTS5 copy
      // of every text. Dropped only by the writer that holds the lease: an older server may be
      // writing to it until then.
      this.db.exec('DROP TABLE IF EXISTS questions_fts');
    }
    const db = this.db;
    this.stmts = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      byId: db.prepare<[string], QuestionRow>('SELECT * FROM questions WHERE id = ?'),
      byLabel: db.prepare<[number], QuestionRow>('SELECT * FROM questions WHERE label = ?'),
      listLive: db.prepare<[string, number], QuestionRow>('SELECT * FROM questions WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?'),
      insertEmbedding: db.prepare('INSERT OR REPLACE INTO embeddings (label, model_id, vector) VALUES (?, ?, ?)'),
      markDeleted: db.prepare('UPDATE questions SET deleted = 1, generation = ? WHERE label = ?'),
      live: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM questions WHERE deleted = 0'),
      // Replaced rows (retiredId) are not questions anyone removed: not counted.
      total: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM questions WHERE substr(id, 1, 1) != ' '"),
      changedSince: db.prepare<[number], { label: number; text: string; deleted: number; generation: number; vector: Buffer | null; model_id: string | null }>(
        'SELECT q.label, q.text, q.deleted, q.generation, e.vector, e.model_id FROM questions q LEFT JOIN embeddings e ON e.label = q.label WHERE q.generation > ? ORDER BY q.label',
      ),
      liveTexts: db.prepare<[], { label: number; text: string }>('SELECT label, text FROM questions WHERE deleted = 0 ORDER BY label'),
      liveEmbeddings: db.prepare<[], { label: number; vector: Buffer; model_id: string }>(
        'SELECT e.label, e.vector, e.model_id FROM embeddings e JOIN questions q ON q.label = e.label WHERE q.deleted = 0 ORDER BY e.label',
      ),
      staleLabels: db.prepare<[string], { label: number; text: string }>(
        'SELECT q.label, q.text FROM questions q LEFT JOIN embeddings e ON e.label = q.label WHERE q.deleted = 0 AND (e.model_id IS NULL OR e.model_id != ?) ORDER BY q.label',
      ),
      labelsInCategory: db.prepare<[string], { label: number }>('SELECT label FROM questions WHERE category = ? AND deleted = 0'),
      categorySize: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM questions WHERE category = ? AND deleted = 0'),
      categoryEmbeddings: db.prepare<[string], { label: number; vector: Buffer }>(
        'SELECT e.label, e.vector FROM questions q JOIN embeddings e ON e.label = q.label WHERE q.category = ? AND q.deleted = 0',
      ),
      // One round trip for many labels: a JSON array expanded by json_each.
      embeddings: db.prepare<[string], { label: number; vector: Buffer }>('SELECT label, vector FROM embeddings WHERE label IN (SELECT value FROM json_each(?))'),
      addFeedback: db.prepare('INSERT INTO feedback (a_text, b_text, a_id, b_id, is_duplicate, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      feedbackCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM feedback'),
      feedbackPairs: db.prepare<[], { q1: string; q2: string; label: number }>('SELECT a_text AS q1, b_text AS q2, is_duplicate AS label FROM feedback ORDER BY id'),
      categories: db.prepare<[], { category: string; n: number }>('SELECT category, count(*) AS n FROM questions WHERE deleted = 0 AND category IS NOT NULL GROUP BY category ORDER BY n DESC'),
    };
  }

  meta(key: string): string | undefined {
    return this.stmts.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value);
  }

  /** Bumped by every write, inside the write's transaction. */
  get generation(): number {
    return Number(this.meta('generation') ?? 0);
  }

  /** Refuses to write once another process has taken this store's lease (see WriterLease). */
  private assertLease(): void {
    if (this.lease?.lost) throw new DoppelError('STORE_LOCKED', 'this process lost its write lease to another writer: reopen the store');
  }

  private nextGeneration(): number {
    this.assertLease();
    const g = this.generation + 1;
    this.setMeta('generation', String(g));
    return g;
  }

  get(id: string): StoredQuestion | undefined {
    const r = this.stmts.byId.get(id);
    return r && !r.deleted ? toQuestion(r) : undefined;
  }

  /** Including deleted rows: ids stay reserved once used. */
  getAny(id: string): StoredQuestion | undefined {
    const r = this.stmts.byId.get(id);
    return r ? toQuestion(r) : undefined;
  }

  byLabel(label: number): StoredQuestion | undefined {
    const r = this.stmts.byLabel.get(label);
    return r ? toQuestion(r) : undefined;
  }

  /**
   * An upsert plan in one transaction, all or nothing (see IndexCore.writePlan): a replaced
   * question's row is retired (deleted, under retiredId) and a new row takes its id, text and
   * creation time, so an index catching up removes the old text and adds the new.
   */
  write(plan: UpsertPlan, vectors: Float32Array, dim: number, modelId: string): { questions: StoredQuestion[]; generation: number } {
    const db = this.db;
    const stmts = (this.writes ??= {
      insert: db.prepare('INSERT INTO questions (id, text, category, url, metadata, created_at, deleted, generation) VALUES (?, ?, ?, ?, ?, ?, 0, ?)'),
      retire: db.prepare('UPDATE questions SET id = ?, deleted = 1, generation = ? WHERE label = ?'),
      updateFields: db.prepare('UPDATE questions SET category = ?, url = ?, metadata = ?, generation = ? WHERE label = ?'),
    });
    return this.db.transaction(() => {
      const generation = this.nextGeneration();
      const now = new Date().toISOString();
      let row = 0;
      // The plan was made before the vectors were encoded: another write may have replaced or removed a question since.
      const unchanged = (current: StoredQuestion) => {
        const r = this.stmts.byId.get(current.id);
        if (!r || r.deleted || r.label !== current.label) throw new DoppelError('CONFLICT', `the question '${current.id}' changed or was removed while this write was prepared: send it again`);
      };
      const insert = (q: NewQuestion, createdAt: string): StoredQuestion => {
        const metadata = q.metadata ? JSON.stringify(q.metadata) : null;
        const label = Number(stmts.insert.run(q.id, q.text, q.category ?? null, q.url ?? null, metadata, createdAt, generation).lastInsertRowid);
        const v = vectors.subarray(row * dim, ++row * dim);
        this.stmts.insertEmbedding.run(label, modelId, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        return { label, id: q.id, text: q.text, category: q.category ?? null, url: q.url ?? null, metadata: q.metadata ?? null, createdAt, deleted: false };
      };
      const created = plan.create.map((q) => {
        if (this.stmts.byId.get(q.id)) throw new DoppelError('CONFLICT', `a question with id '${q.id}' already exists`);
        return insert(q, now);
      });
      const replaced = plan.replace.map(({ question, current }) => {
        unchanged(current);
        stmts.retire.run(retiredId(current.label, current.id), generation, current.label);
        return insert(question, current.createdAt);
      });
      const updated = plan.update.map(({ question: q, current }) => {
        unchanged(current);
        stmts.updateFields.run(q.category ?? null, q.url ?? null, q.metadata ? JSON.stringify(q.metadata) : null, generation, current.label);
        return { ...current, category: q.category ?? null, url: q.url ?? null, metadata: q.metadata ?? null };
      });
      return { questions: [...created, ...replaced, ...updated], generation };
    }).immediate();
  }

  /** Questions by id, removed ones included. */
  rowsById(ids: string[]): Map<string, StoredQuestion> {
    return new Map(ids.flatMap((id) => this.getAny(id) ?? []).map((q) => [q.id, q]));
  }

  /** Up to `limit` live questions with ids after `after`, in id order (the unique index on id walks it). */
  listLive(after: string, limit: number): StoredQuestion[] {
    return this.stmts.listLive.all(after, limit).map(toQuestion);
  }

  remove(id: string): { question: StoredQuestion; generation: number } {
    return this.db.transaction(() => {
      const q = this.get(id);
      if (!q) throw new DoppelError('NOT_FOUND', `no question with id '${id}'`);
      const generation = this.nextGeneration();
      this.stmts.markDeleted.run(generation, q.label);
      return { question: { ...q, deleted: true }, generation };
    }).immediate();
  }

  /** Up to `limit` live questions after label `after` without a staged vector of `modelId`, in label order (a walk, not a rescan, per batch). */
  unstaged(modelId: string, after: number, limit: number): { label: number; text: string }[] {
    return this.db
      .prepare<[string, number, number], { label: number; text: string }>(
        'SELECT q.label, q.text FROM questions q LEFT JOIN staged_embeddings s ON s.label = q.label AND s.model_id = ? WHERE q.label > ? AND q.deleted = 0 AND s.label IS NULL ORDER BY q.label LIMIT ?',
      )
      .all(modelId, after, limit);
  }

  /** Up to `limit` staged vectors of live questions after label `after`, for `modelId` (what a resumed activation starts from). */
  stagedLive(modelId: string, after: number, limit: number): Map<number, Float32Array> {
    return toVectors(
      this.db
        .prepare<[string, number, number], { label: number; vector: Buffer }>(
          'SELECT s.label, s.vector FROM staged_embeddings s JOIN questions q ON q.label = s.label WHERE q.deleted = 0 AND s.model_id = ? AND s.label > ? ORDER BY s.label LIMIT ?',
        )
        .all(modelId, after, limit),
    );
  }

  /** Records an activation in progress: a start after a crash resumes (or discards) it. */
  startActivation(model: { id: string; dir: string }): void {
    this.setMeta('activation_model_id', model.id);
    this.setMeta('activation_model_dir', model.dir);
  }

  forgetActivation(): void {
    this.db.prepare("DELETE FROM meta WHERE key IN ('activation_model_id', 'activation_model_dir')").run();
  }

  /** Stores vectors of another model beside the current ones (no generation: searches do not read them). */
  stage(labels: number[], vectors: Float32Array, dim: number, modelId: string): void {
    this.assertLease();
    const put = this.db.prepare('INSERT OR REPLACE INTO staged_embeddings (label, model_id, vector) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      labels.forEach((label, i) => put.run(label, modelId, Buffer.from(vectors.buffer, vectors.byteOffset + i * dim * 4, dim * 4)));
    })();
  }

  /**
   * The staged model takes over, in one transaction: the two vector tables trade names (the
   * current vectors become the staged ones, kept for a rollback), and the meta records the new
   * model, where it came from and the one it replaced. A new generation, so that a reader that
   * follows this store sees a change (and its graph, of another model, is rebuilt).
   */
  swapEmbeddings(model: { id: string; dir: string }, previous: { id: string; dir: string | null }): number {
    this.assertLease();
    return this.db.transaction(() => {
      this.db.exec('ALTER TABLE embeddings RENAME TO embeddings_swap; ALTER TABLE staged_embeddings RENAME TO embeddings; ALTER TABLE embeddings_swap RENAME TO staged_embeddings');
      const generation = this.nextGeneration();
      this.recordSwitch(model, previous);
      return generation;
    }).immediate();
  }

  /** The meta of a switch: the model serving, the one before it (a rollback's target), no activation left. */
  recordSwitch(model: { id: string; dir: string }, previous: { id: string; dir: string | null }): void {
    this.assertLease();
    this.db.transaction(() => {
      this.setMeta('model_id', model.id);
      this.setMeta('model_dir', model.dir);
      this.setMeta('previous_model_id', previous.id);
      if (previous.dir !== null) this.setMeta('previous_model_dir', previous.dir);
      else this.db.prepare("DELETE FROM meta WHERE key = 'previous_model_dir'").run();
      this.forgetActivation();
    })();
  }

  /** Replaces embeddings (after a model change) in one transaction. */
  putEmbeddings(labels: number[], vectors: Float32Array, dim: number, modelId: string): void {
    this.assertLease();
    this.db.transaction(() => {
      labels.forEach((label, i) => {
        const v = vectors.subarray(i * dim, (i + 1) * dim);
        this.stmts.insertEmbedding.run(label, modelId, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      });
    }).immediate();
  }

  counts(): { live: number; total: number; feedback: number } {
    return { live: this.stmts.live.get()!.n, total: this.stmts.total.get()!.n, feedback: this.stmts.feedbackCount.get()!.n };
  }

  feedbackCount(): number {
    return this.stmts.feedbackCount.get()!.n;
  }

  categories(): { category: string; n: number }[] {
    return this.stmts.categories.all();
  }

  changedSince(generation: number) {
    return this.stmts.changedSince.iterate(generation);
  }

  /** Every live question's text, by label: what the lexical index is built from. */
  liveTexts() {
    return this.stmts.liveTexts.iterate();
  }

  liveEmbeddings() {
    return this.stmts.liveEmbeddings.iterate();
  }

  /** Live questions whose stored embedding is missing or from another model. */
  staleQuestions(modelId: string): { label: number; text: string }[] {
    return this.stmts.staleLabels.all(modelId);
  }

  labelsInCategory(category: string): Set<number> {
    return new Set(this.stmts.labelsInCategory.all(category).map((r) => r.label));
  }

  /** Live questions in a category (a count over the category's entries in its partial index). */
  categorySize(category: string): number {
    return this.stmts.categorySize.get(category)!.n;
  }

  /** Stored vectors of the given questions (a query-time path: one statement for all of them). */
  embeddings(labels: number[]): Map<number, Float32Array> {
    if (labels.length === 0) return new Map();
    return toVectors(this.stmts.embeddings.all(JSON.stringify(labels)));
  }

  /** Stored vectors of a category's live questions. */
  categoryEmbeddings(category: string): Map<number, Float32Array> {
    return toVectors(this.stmts.categoryEmbeddings.all(category));
  }

  addFeedback(f: NewFeedback): number {
    this.assertLease();
    return Number(this.stmts.addFeedback.run(f.a, f.b, f.aId ?? null, f.bId ?? null, f.isDuplicate ? 1 : 0, new Date().toISOString()).lastInsertRowid);
  }

  /** Every verdict, oldest first, as training pairs. */
  feedbackPairs(): { q1: string; q2: string; label: 0 | 1 }[] {
    return this.stmts.feedbackPairs.all().map((r) => ({ q1: r.q1, q2: r.q2, label: r.label ? 1 : 0 }));
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.lease?.release();
    } finally {
      this.db.close();
    }
  }
}



/**
 * Reading and writing whole rows for `doppel index migrate` (kept apart from the search path):
 * rows keep their time, deletion and vector; a copy-in is one transaction and one generation, so
 * the graph catches up from the store at the next open.
 */
export class StoreTransfer {
  constructor(private readonly store: QuestionStore) {}

  count(): number {
    return this.store.counts().total;
  }

  rows(after: number, limit: number): { label: number; row: TransferRow }[] {
    const rows = this.store.db
      .prepare<[number, number], QuestionRow & { vector: Buffer; model_id: string }>(
        // Replaced rows (retiredId) stay behind: only an index catching up reads them.
        "SELECT q.*, e.vector, e.model_id FROM questions q JOIN embeddings e ON e.label = q.label WHERE q.label > ? AND substr(q.id, 1, 1) != ' ' ORDER BY q.label LIMIT ?",
      )
      .all(after, limit);
    return rows.map((r) => ({
      label: r.label,
      row: { ...toQuestion(r), modelId: r.model_id, vector: new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)) },
    }));
  }

  present(ids: string[]): Set<string> {
    return new Set(ids.filter((id) => this.store.getAny(id)));
  }

  write(rows: TransferRow[]): void {
    const db = this.store.db;
    const insert = db.prepare('INSERT INTO questions (id, text, category, url, metadata, created_at, deleted, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const embedding = db.prepare('INSERT INTO embeddings (label, model_id, vector) VALUES (?, ?, ?)');
    db.transaction(() => {
      const generation = this.store.generation + 1;
      this.store.setMeta('generation', String(generation));
      for (const r of rows) {
        const label = Number(insert.run(r.id, r.text, r.category, r.url, r.metadata ? JSON.stringify(r.metadata) : null, r.createdAt, r.deleted ? 1 : 0, generation).lastInsertRowid);
        embedding.run(label, r.modelId, Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength));
      }
    }).immediate();
  }

  feedback(after: number): FeedbackRecord[] {
    return this.store.db
      .prepare<[number], { id: number; a_text: string; b_text: string; a_id: string | null; b_id: string | null; is_duplicate: number; created_at: string }>(
        'SELECT * FROM feedback WHERE id > ? ORDER BY id',
      )
      .all(after)
      .map((r) => ({ id: r.id, a: r.a_text, b: r.b_text, aId: r.a_id, bId: r.b_id, isDuplicate: r.is_duplicate === 1, createdAt: r.created_at }));
  }

  /** Verdicts and the marker that says how far the copy got, in one transaction. */
  writeFeedback(rows: FeedbackRecord[], marker: { key: string; value: string }): void {
    const add = this.store.db.prepare('INSERT INTO feedback (a_text, b_text, a_id, b_id, is_duplicate, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.store.db.transaction(() => {
      for (const f of rows) add.run(f.a, f.b, f.aId, f.bId, f.isDuplicate ? 1 : 0, f.createdAt);
      this.store.setMeta(marker.key, marker.value);
    }).immediate();
  }
}
