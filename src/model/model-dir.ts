import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DoppelError } from '../errors.js';
import { Tokenizer } from '../text/encoder-tokenizer.js';
import { type ModelConfig, ModelConfigSchema } from '../encoder/config.js';
import { CrossAttention } from '../verdict/cross-attention.js';
import { STACK_INPUTS, type VerdictJson, VerdictJsonSchema } from '../verdict/verdict.js';
import { loadWeights, saveWeights, WEIGHTS_BIN, type WeightMap } from '../encoder/weights.js';

export const CalibrationSchema = z.object({
  /** Energy at or below which a pair is called a duplicate. */
  threshold: z.number(),
  criterion: z.enum(['accuracy', 'precision']),
  targetPrecision: z.number().optional(),
  /** Platt scaling of the energy into a probability. */
  platt: z.object({ a: z.number(), b: z.number() }),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

/**
 * ensemble.json: the model also holds a retriever tower (a whole model directory in retriever/)
 * that the index searches with, blended with the classifier tower (ensemble-encoder.ts).
 */
export const EnsembleSchema = z.object({
  format: z.literal('doppel-ensemble/1'),
  /** w in the index energy w * E_classifier + (1 - w) * E_retriever. */
  classifierWeight: z.number().gt(0).lt(1),
});
export type Ensemble = z.infer<typeof EnsembleSchema>;

/** Everything needed to use a trained model, loaded with no network and no tfjs. */
export interface ModelFiles {
  dir: string;
  /** Short content hash of what makes the stored vectors (config and weights, and an ensemble's retriever and blend): stores are tagged with it. */
  id: string;
  /** Short content hash of this tower's own config and weights: model.onnx is tagged with it. */
  towerId: string;
  config: ModelConfig;
  tokenizer: Tokenizer;
  weights: WeightMap;
  calibration: Calibration;
  /** The verdict stage, when the model has one (models trained before it do not). */
  verdict?: VerdictJson;
  /** The retriever tower and its share of the index energy, when the model is an ensemble. */
  retriever?: { files: ModelFiles; classifierWeight: number };
}

export const FILES = {
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  calibration: 'calibration.json',
  training: 'training.json',
  verdict: 'verdict.json',
  ensemble: 'ensemble.json',
  /** The retriever tower's model directory, inside an ensemble's. */
  retriever: 'retriever',
  onnx: 'model.onnx',
  /** Which weights model.onnx was exported from: a stale export is never used. */
  onnxMeta: 'model.onnx.json',
} as const;

/** data/models/default in the package, wherever it is installed. */
export function defaultModelDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../data/models/default');
}

/** A stage written before the trees were named for what they are ('lexical'), read under today's names. */
function renamedTrees(json: unknown): unknown {
  const j = json as { lexical?: unknown; trees?: unknown; stack?: { names?: unknown } } | null;
  if (!j || typeof j !== 'object' || !('lexical' in j) || 'trees' in j) return json;
  const { lexical, ...rest } = j;
  const names = Array.isArray(j.stack?.names) ? j.stack.names.map((n) => (n === 'lexical_logit' ? 'trees_logit' : n)) : j.stack?.names;
  return { ...rest, trees: lexical, stack: { ...j.stack, names } };
}

function parseVerdict(stored: unknown, dir: string, embeddingDim: number): VerdictJson {
  const path = join(dir, FILES.verdict);
  const json = renamedTrees(stored);
  // Inputs first: a stage from an older version lacks more than the inputs (e.g. the cross-attention model), and refitting mends all of it.
  const names = (json as { stack?: { names?: unknown } } | null)?.stack?.names;
  if (Array.isArray(names) && names.join() !== STACK_INPUTS.join()) {
    throw new DoppelError('MODEL_ERROR', `${path} was fit on other inputs than this version computes: refit it with doppel fit-verdict`);
  }
  const parsed = VerdictJsonSchema.safeParse(json);
  if (!parsed.success || !Array.isArray(names)) {
    const issue = parsed.success ? { path: ['stack', 'names'], message: 'Required' } : parsed.error.issues[0];
    throw new DoppelError('MODEL_ERROR', `${path} is not a verdict stage: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  // The cross-attention weights are checked whole here, not at the first pair judged.
  let dim: number;
  try {
    dim = new CrossAttention(parsed.data.crossAttention, () => undefined).dim;
  } catch (err) {
    throw new DoppelError('MODEL_ERROR', `${path}: ${(err as Error).message}`);
  }
  if (dim !== embeddingDim) {
    throw new DoppelError('MODEL_ERROR', `${path}: its cross-attention model reads ${dim}-d word vectors, the encoder's are ${embeddingDim}-d: refit it with doppel fit-verdict`);
  }
  return parsed.data;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new DoppelError('MODEL_ERROR', `cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * `verdict: false` leaves verdict.json unread: for a retriever tower, whose verdict nothing uses,
 * and for `fit-verdict`, which replaces a verdict this version may no longer read.
 */
export async function loadModelFiles(dir: string = defaultModelDir(), options: { verdict?: boolean } = {}): Promise<ModelFiles> {
  if (!existsSync(join(dir, FILES.config))) {
    throw new DoppelError('INVALID_INPUT', `${dir} is not a Doppel model directory (no ${FILES.config})`);
  }
  const config = ModelConfigSchema.parse(await readJson(join(dir, FILES.config)));
  const calibration = CalibrationSchema.parse(await readJson(join(dir, FILES.calibration)));
  const tokenizer = await Tokenizer.load(join(dir, FILES.tokenizer));
  const weights = await loadWeights(dir);
  const embeddingDim = weights.get('embedding')?.shape[1] ?? 0;
  const verdict = options.verdict !== false && existsSync(join(dir, FILES.verdict)) ? parseVerdict(await readJson(join(dir, FILES.verdict)), dir, embeddingDim) : undefined;
  const retriever = existsSync(join(dir, FILES.ensemble)) ? await loadRetriever(dir, config) : undefined;
  const hash = createHash('sha256');
  hash.update(JSON.stringify(config));
  hash.update(await readFile(join(dir, WEIGHTS_BIN)));
  const towerId = hash.digest('hex').slice(0, 16);
  // Stored vectors of an ensemble depend on both towers and the blend.
  const id = retriever ? createHash('sha256').update(`${towerId}:${retriever.files.towerId}:${retriever.classifierWeight}`).digest('hex').slice(0, 16) : towerId;
  return { dir, id, towerId, config, tokenizer, weights, calibration, verdict, retriever };
}

async function loadRetriever(dir: string, classifier: ModelConfig): Promise<ModelFiles['retriever']> {
  const parsed = EnsembleSchema.safeParse(await readJson(join(dir, FILES.ensemble)));
  if (!parsed.success) throw new DoppelError('MODEL_ERROR', `${join(dir, FILES.ensemble)} is not an ensemble: ${parsed.error.issues[0]?.message}`);
  const files = await loadModelFiles(join(dir, FILES.retriever), { verdict: false });
  if (files.retriever) throw new DoppelError('MODEL_ERROR', `${files.dir} is itself an ensemble: a retriever must be a single tower`);
  if (classifier.energy !== 'cosine' || files.config.energy !== 'cosine') {
    throw new DoppelError('MODEL_ERROR', `an ensemble needs two cosine towers (${dir}: ${classifier.energy}, retriever: ${files.config.energy})`);
  }
  return { files, classifierWeight: parsed.data.classifierWeight };
}

/**
 * Whether a directory holds a Doppel model (or a training checkpoint of one): what `train --out`
 * may replace whole. A `config.json` alone is not enough (many projects have one): it must be a
 * Doppel model config, with the weights beside it.
 */
export function isModelDir(dir: string): boolean {
  if (existsSync(join(dir, 'checkpoint', 'checkpoint.json')) && existsSync(join(dir, 'checkpoint', WEIGHTS_BIN))) return true;
  try {
    return ModelConfigSchema.safeParse(JSON.parse(readFileSync(join(dir, FILES.config), 'utf8'))).success && existsSync(join(dir, WEIGHTS_BIN));
  } catch {
    return false;
  }
}

export interface SaveModelInput {
  config: ModelConfig;
  tokenizerJson: object;
  weights: WeightMap;
  calibration?: Calibration;
  verdict?: VerdictJson;
  training?: object;
}

/**
 * Writes a model's files into `dir` (created if missing), in place: to publish a model directory
 * whole, write into a temporary one and rename it (util/atomic-write.ts replaceDir, as train does).
 */
export async function saveModelFiles(dir: string, input: SaveModelInput): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, FILES.config), JSON.stringify(input.config, null, 2));
  await writeFile(join(dir, FILES.tokenizer), JSON.stringify(input.tokenizerJson));
  await saveWeights(dir, input.weights);
  if (input.calibration) await writeFile(join(dir, FILES.calibration), JSON.stringify(input.calibration, null, 2));
  if (input.verdict) await writeFile(join(dir, FILES.verdict), JSON.stringify(input.verdict));
  if (input.training) await writeFile(join(dir, FILES.training), JSON.stringify(input.training, null, 2));
}

/** Precision, recall and accuracy of a decision on the reviewed pairs. */
export interface ReviewedFigures {
  accuracy: number;
  precision: number;
  recall: number;
}

/** What `doppel fit-verdict --feedback` recorded in training.json: the reviewed pairs, and the model before and after on them. */
export interface FeedbackRefitRecord {
  store: string;
  pairs: number;
  duplicates: number;
  reviewedShare: number;
  current: ReviewedFigures;
  /** Cross-validated on the reviewed pairs. */
  refit: ReviewedFigures;
  createdAt: string;
}

/** The model's last refit on reviewed pairs, if it has one. */
export function readFeedbackRefit(dir: string): FeedbackRefitRecord | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, FILES.training), 'utf8')) as { feedbackRefit?: FeedbackRefitRecord }).feedbackRefit;
  } catch {
    return undefined;
  }
}
