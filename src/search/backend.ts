import type { Pair } from '../data/pairs.js';
import type { ErrorCode } from '../errors.js';
import type { ApiKeyStore } from './api-keys.js';
import type { ReviewQueue } from './review.js';
import type { DecisionChoice, Model } from '../model/load.js';
import type { FusionWeights } from './fusion.js';

/** A small JSON object a forum keeps with a question (its own ids, a title, counts): stored and returned as given. */
export type QuestionMetadata = Record<string, unknown>;

/** What a question carries besides its text: none of it is encoded or searched. */
export interface QuestionFields {
  category?: string | null;
  /** Where the question lives on the forum: the link a suggestion shows. */
  url?: string | null;
  metadata?: QuestionMetadata | null;
}

/** A stored question. `id` is the caller's id; `label` the internal id used by the vector index. */
export interface StoredQuestion {
  label: number;
  id: string;
  text: string;
  category: string | null;
  url: string | null;
  metadata: QuestionMetadata | null;
  createdAt: string;
  deleted: boolean;
}

export interface NewQuestion extends QuestionFields {
  id: string;
  text: string;
}

/** How a store applies a batch of upserts: new rows, rows whose text changed (a new vector), rows whose other fields changed. */
export interface UpsertPlan {
  create: NewQuestion[];
  /** With the stored question each replaces. */
  replace: { question: NewQuestion; current: StoredQuestion }[];
  update: { question: NewQuestion; current: StoredQuestion }[];
}

/** What an upsert did to one question, or why it could not. */
export type UpsertOutcome =
  | { id: string; result: 'created' | 'replaced' | 'updated' | 'unchanged'; question: StoredQuestion }
  /** The batch names the id again later, and that later question is what is stored. */
  | { id: string; result: 'superseded' }
  | { id: string; error: { code: ErrorCode; message: string } };

/** A page of the live questions in id order; `next` continues after the last. */
export interface QuestionPage {
  questions: StoredQuestion[];
  next: string | null;
}

/** A verdict as a store records it: both texts, and the ids of stored questions where given. */
export interface NewFeedback {
  a: string;
  b: string;
  aId?: string | null;
  bId?: string | null;
  isDuplicate: boolean;
}

/** A question as `doppel index migrate` copies it between stores: vector, model, time and deletion included. */
export interface TransferRow {
  id: string;
  text: string;
  category: string | null;
  url: string | null;
  metadata: QuestionMetadata | null;
  createdAt: string;
  deleted: boolean;
  modelId: string;
  vector: Float32Array;
}

/** A stored verdict as it is copied between stores. */
export interface FeedbackRecord {
  id: number;
  a: string;
  b: string;
  aId: string | null;
  bId: string | null;
  isDuplicate: boolean;
  createdAt: string;
}

export interface HnswParams {
  m: number;
  efConstruction: number;
  /** Search breadth; hnswlib does not persist it, so the manifest does. */
  ef: number;
}

export const DEFAULT_HNSW: HnswParams = { m: 16, efConstruction: 100, ef: 128 };

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
  /** Read words that look like slips as the corpus word one edit away, for the encoder and BM25 alike. Default: true. */
  typos?: boolean;
  /** Which hits are called duplicates: a named operating point or a minimum probability (default: the model's default point). */
  decision?: DecisionChoice;
}

/** The stages of a search, as /metrics times them: mending and analysis, the encoder, the two candidate lists, reading stored rows and vectors, the verdict. */
export const SEARCH_STAGES = ['analysis', 'encode', 'dense', 'lexical', 'read', 'verdict'] as const;
export type SearchStage = (typeof SEARCH_STAGES)[number];
export type StageObserver = (stage: SearchStage, seconds: number) => void;

export interface IndexStats {
  /** Where the store lives: a directory (SQLite + hnswlib) or a PostgreSQL database. */
  backend: 'directory' | 'postgres';
  questions: number;
  deleted: number;
  feedback: number;
  indexed: number;
  capacity: number;
  dim: number;
  space: 'l2' | 'cosine' | 'l1';
  hnsw: HnswParams;
  model: string;
  energy: string;
  /**
   * Directory stores: the store's last change, the last one applied to the graph in memory, and
   * in the saved graph. A database keeps its own index in step, so it has none.
   */
  generation?: number;
  appliedGeneration?: number;
  savedGeneration?: number;
  /** How BM25 is computed: Doppel's in-memory index (directory stores), pg_textsearch, or PostgreSQL's own ts_rank_cd. */
  lexical: 'memory' | 'pg_textsearch' | 'tsvector';
  categories?: { category: string; n: number }[];
}

export interface QuestionInput extends QuestionFields {
  id?: string;
  text: string;
}

export interface Hit {
  id: string;
  text: string;
  category: string | null;
  url: string | null;
  metadata: QuestionMetadata | null;
  /** The deciding energy (an ensemble's classifier tower); it breaks ties of probability. */
  energy: number;
  /** The verdict's probability that the two ask the same: hits come in its order, highest first. */
  probability: number;
  /** probability >= the decision's threshold. */
  isDuplicate: boolean;
}

export interface FeedbackInput {
  a?: string;
  b?: string;
  aId?: string;
  bId?: string;
  isDuplicate: boolean;
}

export interface OpenOptions {
  model: Model;
  /** Re-encode a store that another model encoded (otherwise refused: see refuseOtherModel). */
  reencode?: boolean;
  hnsw?: Partial<HnswParams>;
  fusion?: Partial<FusionWeights>;
  readonly?: boolean;
  /** Reports long jobs (re-encoding, rebuilding the graph). */
  onProgress?: (task: string, done: number, total: number) => void;
  log?: (message: string) => void;
  /** PostgreSQL: a read replica's URL for searches and reads (writes go to the store's URL). */
  readUrl?: string;
  /** PostgreSQL: connections per pool (default: $DOPPEL_PG_POOL or 10). */
  poolSize?: number;
}

/** One side of a copy between stores (`doppel index migrate`): the same operations on either backend. */
export interface TransferEnd {
  modelId(): Promise<string | undefined>;
  count(): Promise<number>;
  rows(after: number, limit: number): Promise<{ label: number; row: TransferRow }[]>;
  present(ids: string[]): Promise<Set<string>>;
  write(rows: TransferRow[]): Promise<void>;
  feedback(after: number): Promise<FeedbackRecord[]>;
  meta(key: string): Promise<string | undefined>;
  writeFeedback(rows: FeedbackRecord[], marker: { key: string; value: string }): Promise<void>;
  close(): Promise<void>;
}

/** A model as a store records it: its id, and the directory it was loaded from (unknown in stores written before it was recorded). */
export interface StoreModel {
  id: string;
  dir: string | null;
}

/** The store's models: the one its vectors are of, the one before it (a rollback's target), and one being activated. */
export interface StoreModels {
  current: StoreModel;
  previous?: StoreModel;
  activating?: StoreModel;
}

export interface StageOptions {
  /** Questions encoded at a time. */
  batch?: number;
  onProgress?: (staged: number, total: number) => void;
  /** Called after each batch with the milliseconds it took: a server waits here so that requests keep the processor. */
  pace?: (batchMs: number) => Promise<void>;
}

/**
 * A kind of store: a directory (SQLite + hnswlib) or a PostgreSQL database. Everything that
 * reaches a store by its `--store` location goes through one of these, chosen by resolveStore.
 */
export interface StoreBackend {
  readonly name: IndexStats['backend'];
  /** Whether searches can be sent to a read replica (`--read-url`). */
  readonly readReplicas: boolean;
  /** The location as messages and logs may print it (a database URL without its password). */
  describe(location: string): string;
  open(location: string, options: OpenOptions): Promise<DuplicateIndex>;
  /** Moderators' verdicts as training pairs, read without taking the writer's lease. */
  readFeedback(location: string): Promise<Pair[]>;
  /** A side of a copy: a source is opened read-only, a target is created or upgraded for `model`. */
  openTransfer(location: string, model: Model, role: 'source' | 'target'): Promise<TransferEnd>;
  /** The store's API keys, without the writer's lease (a server may be running on it). */
  openKeys(location: string, options: { readonly: boolean }): Promise<ApiKeyStore>;
  /** The model a store records (its id and directory), read without the writer's lease; undefined for a new store. */
  recordedModel(location: string): Promise<StoreModel | undefined>;
  /** The store's review queue, on a connection of its own (every worker of a server queues and decides); `limit`: most pairs pending (REVIEW_QUEUE_LIMIT). */
  openReview(location: string, options?: { limit?: number }): Promise<ReviewQueue>;
}

/**
 * Known questions, encoded once, searchable by energy (dense), BM25 (lexical) or both (hybrid).
 * Two stores implement it: a directory (SQLite + an hnswlib graph; see DirectoryIndex) and a
 * PostgreSQL database (pgvector + BM25 in the database; see PostgresIndex). openIndex picks one
 * by location.
 */
export interface DuplicateIndex {
  /** The model whose vectors the index holds: queries must be encoded with it. */
  readonly model: Model;
  /**
   * The store's last change where one read tells it (the directory store); undefined where it
   * cannot be known cheaply (PostgreSQL, written by many replicas): then nothing is cached.
   */
  readonly generation: number | undefined;
  /** Builds now what the first search would build: a server calls it before it listens. */
  warm(): void;
  /** Where searches report how long each stage took; undefined stops it. */
  observeStages(observer: StageObserver | undefined): void;
  /** Validates, encodes and stores questions, all or nothing; an id is generated where none is given. */
  add(questions: QuestionInput[]): Promise<StoredQuestion[]>;
  /** Search, then insert: the stored questions the new one duplicates, its nearest (the most probable duplicate, flagged or not), and the stored question. */
  addIfNew(question: QuestionInput, options?: { k?: number; decision?: DecisionChoice }): Promise<{ question: StoredQuestion; duplicates: Hit[]; nearest?: Hit }>;
  remove(id: string): Promise<StoredQuestion>;
  /**
   * Stores each question under its id, replacing what is there (fields left out become null):
   * re-encoded only when its text changed. One write for the batch; a question that cannot be
   * stored (bad input, an id that was removed) is reported in its outcome and the rest go on.
   */
  upsert(questions: (QuestionInput & { id: string })[]): Promise<UpsertOutcome[]>;
  /** Changes a live question's category, url or metadata (null clears one); its text and vector stay. */
  patch(id: string, fields: QuestionFields): Promise<StoredQuestion>;
  /** Live questions in id order, from just after `after`: pages that see every question once while writes go on. */
  list(options: { after?: string; limit: number }): Promise<QuestionPage>;
  /** A live question. */
  get(id: string): Promise<StoredQuestion | undefined>;
  /** Whether the id is taken: by a live question, or by a removed one (ids are never reused). */
  has(id: string): Promise<boolean>;
  search(text: string, options?: SearchOptions): Promise<Hit[]>;
  /** Texts as every search reads them: checked, with likely slips mended from the store's own words (a directory store). */
  mend(texts: string[]): Promise<string[]>;
  /** Many searches with the same options, the queries encoded in batches. */
  searchMany(queries: { text: string; exclude?: string[] }[], options?: Omit<SearchOptions, 'exclude'>): Promise<Hit[][]>;
  /** Stores a moderator's verdict on a pair: texts, or ids of stored questions. */
  feedback(input: FeedbackInput): Promise<number>;
  /** Every verdict, oldest first, as training pairs. */
  feedbackPairs(): Promise<Pair[]>;
  stats(options?: { categories?: boolean }): Promise<IndexStats>;
  /** Which model encoded the store, the one before it, and one being activated. */
  models(): Promise<StoreModels>;
  /**
   * Model activation, step 1: encodes every live question with `next` into vectors and an index
   * of its own, beside the serving ones (the current model answers meanwhile). Resumable: what was
   * staged before is kept. Nothing to do when `next` makes the same vectors.
   */
  stage(next: Model, options?: StageOptions): Promise<void>;
  /**
   * Step 2: the questions written since are staged, then `next` takes over in one switch and the
   * replaced vectors are kept for a rollback. The caller holds every other request meanwhile.
   */
  switchModel(next: Model): Promise<void>;
  /** Forgets an activation in progress (its staged vectors stay until the next one overwrites them). */
  discardActivation(): Promise<void>;
  /** Persists what is only in memory (the directory's graph); a database has nothing to save. */
  save(): Promise<void>;
  close(): Promise<void>;
}
