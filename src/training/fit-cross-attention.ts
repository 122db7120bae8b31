import * as tf from '@tensorflow/tfjs-core';
import type { Pair } from '../data/pairs.js';
import { rocAuc } from '../evaluation/binary-classification.js';
import { DoppelError } from '../errors.js';
import { type BackendChoice, initBackend } from '../encoder/backend.js';
import { Random } from '../util/random.js';
import { CROSS_ATTENTION_PARAMS as P, CrossAttention, type CrossAttentionJson, crossAttentionWords, encodeTensor } from '../verdict/cross-attention.js';
import type { WordVectors } from '../verdict/word-vectors.js';
import { words } from '../text/verdict-words.js';

export interface CrossAttentionSettings {
  hidden: number;
  /** At most this many epochs; the one with the best validation ROC-AUC is kept. */
  epochs: number;
  /** Epochs without a better validation ROC-AUC before stopping (it overfits 27k pairs by epoch 3-4). */
  patience: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/**
 * Hidden 64: a PyTorch prototype of an earlier variant was no better on validation with 128, nor
 * this one with 32 (*scratch*). The seed is fixed, not the split's, so a refit reproduces the model.
 */
export const CROSS_ATTENTION_DEFAULTS: CrossAttentionSettings = { hidden: 64, epochs: 8, patience: 2, batchSize: 64, learningRate: 1e-3, seed: 1 };

/** Pairs as rows of a shared word table: row 0 is padding (a zero vector). */
interface Encoded {
  table: Float32Array;
  a: number[][];
  b: number[][];
  labels: number[];
}

function encode(pairs: readonly Pair[], vectors: WordVectors, dim: number): Encoded {
  const rows = new Map<string, number>();
  const table: Float64Array[] = [new Float64Array(dim)];
  const ids = (text: string) =>
    crossAttentionWords(words(text), vectors).words.map((w) => {
      let id = rows.get(w);
      if (id === undefined) {
        rows.set(w, (id = table.length));
        table.push(vectors(w)!);
      }
      return id;
    });
  const a = pairs.map((p) => ids(p.q1));
  const b = pairs.map((p) => ids(p.q2));
  const flat = new Float32Array(table.length * dim);
  table.forEach((v, i) => flat.set(v, i * dim));
  return { table: flat, a, b, labels: pairs.map((p) => p.label) };
}

function wordVectorDim(pairs: readonly Pair[], vectors: WordVectors): number {
  for (const p of pairs) for (const w of words(p.q1)) {
    const v = vectors(w);
    if (v) return v.length;
  }
  throw new DoppelError('INVALID_INPUT', 'no training pair has a word with a word vector: the cross-attention model has nothing to read');
}

type Vars = Record<keyof typeof P, tf.Variable>;

function initVars(dim: number, h: number, random: Random): Vars {
  // Glorot-uniform matrices, zero biases.
  const matrix = (rows: number, cols: number) => {
    const limit = Math.sqrt(6 / (rows + cols));
    return tf.variable(tf.tensor2d(Float32Array.from({ length: rows * cols }, () => (2 * random.next() - 1) * limit), [rows, cols]));
  };
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  return {
    attend1: matrix(dim, h),
    attend1Bias: zeros(h),
    attend2: matrix(h, h),
    attend2Bias: zeros(h),
    compare: matrix(dim, h),
    compareBias: zeros(h),
    align: matrix(dim, h),
    exactMatch: zeros(h),
    head1: matrix(3 * h, h),
    head1Bias: zeros(h),
    head2: matrix(h, 1),
    head2Bias: zeros(1),
  };
}

/** x [B, L, in] W [in, out] + b, as one matrix product. */
function dense(x: tf.Tensor3D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor3D {
  const [batch, length, dim] = x.shape;
  const y = tf.matMul(x.reshape([batch * length, dim]), w as tf.Tensor2D);
  return (b ? y.add(b) : y).reshape([batch, length, w.shape[1]!]);
}

/** One padded batch: word rows, masks and exact-match flags per side. */
interface Batch {
  a: tf.Tensor2D;
  b: tf.Tensor2D;
  maskA: tf.Tensor2D;
  maskB: tf.Tensor2D;
  matchA: tf.Tensor2D;
  matchB: tf.Tensor2D;
}

export function makeBatch(a: number[][], b: number[][]): Batch {
  const side = (mine: number[][], other: number[][]) => {
    const length = Math.max(1, ...mine.map((s) => s.length));
    const ids = new Int32Array(mine.length * length);
    const mask = new Float32Array(mine.length * length);
    const match = new Float32Array(mine.length * length);
    mine.forEach((s, r) => {
      const others = new Set(other[r]);
      s.forEach((id, i) => {
        ids[r * length + i] = id;
        mask[r * length + i] = 1;
        match[r * length + i] = others.has(id) ? 1 : 0;
      });
    });
    return { ids: tf.tensor2d(ids, [mine.length, length], 'int32'), mask: tf.tensor2d(mask, [mine.length, length]), match: tf.tensor2d(match, [mine.length, length]) };
  };
  const A = side(a, b);
  const B = side(b, a);
  return { a: A.ids, b: B.ids, maskA: A.mask, maskB: B.mask, matchA: A.match, matchB: B.match };
}

function disposeBatch(batch: Batch): void {
  tf.dispose(Object.values(batch));
}

/** The network of cross-attention.ts as a tfjs graph over a padded batch: logits [B]. */
export function crossAttentionGraph(v: Record<keyof typeof P, tf.Tensor>, table: tf.Tensor2D, batch: Batch): tf.Tensor1D {
  const a = tf.gather(table, batch.a) as tf.Tensor as tf.Tensor3D;
  const b = tf.gather(table, batch.b) as tf.Tensor as tf.Tensor3D;
  const attend = (x: tf.Tensor3D) => dense(dense(x, v.attend1, v.attend1Bias).relu(), v.attend2, v.attend2Bias).relu();
  const scores = tf.matMul(attend(a), attend(b), false, true) as tf.Tensor3D;
  const side = (x: tf.Tensor3D, y: tf.Tensor3D, s: tf.Tensor3D, maskX: tf.Tensor2D, maskY: tf.Tensor2D, match: tf.Tensor2D) => {
    // Padding of the other side gets -1e9 before the softmax: no weight.
    const alpha = tf.softmax(s.add(maskY.sub(1).mul(1e9).expandDims(1)));
    const beta = tf.matMul(alpha, dense(y, v.align));
    const c = dense(x, v.compare, v.compareBias).add(beta).add(match.expandDims(2).mul(v.exactMatch)).relu();
    return c.mul(maskX.expandDims(2)).max(1);
  };
  const va = side(a, b, scores, batch.maskA, batch.maskB, batch.matchA);
  const vb = side(b, a, scores.transpose<tf.Tensor3D>([0, 2, 1]), batch.maskB, batch.maskA, batch.matchB);
  const z = tf.concat([va.add(vb), va.sub(vb).abs(), va.mul(vb)], 1);
  const hidden = tf.matMul(z, v.head1 as tf.Tensor2D).add(v.head1Bias).relu();
  return tf.matMul(hidden, v.head2 as tf.Tensor2D).add(v.head2Bias).reshape([-1]) as tf.Tensor1D;
}

function toJson(vars: Vars, hidden: number, epoch: number, validRocAuc: number | null): CrossAttentionJson {
  const weights: CrossAttentionJson['weights'] = {};
  for (const [key, variable] of Object.entries(vars)) weights[P[key as keyof typeof P]] = encodeTensor(variable.shape, variable.dataSync() as Float32Array);
  return { format: 'doppel-cross-attention/1', hidden, weights, epoch, validRocAuc };
}

export interface CrossAttentionFit {
  model: CrossAttention;
  /** Validation ROC-AUC per epoch. */
  curve: number[];
}

export interface CrossAttentionOptions {
  settings?: Partial<CrossAttentionSettings>;
  /** The tfjs backend to train on, when none is selected yet (e.g. fit-verdict on an ONNX encoder). */
  backend?: BackendChoice;
  log?: (message: string) => void;
}

/**
 * Trains the cross-attention model on the training pairs with binary cross-entropy (Adam), and
 * keeps the epoch whose validation ROC-AUC, measured by the inference code itself, is best (at
 * least one epoch runs; an epoch whose ROC-AUC is undefined, validation pairs of one class, never
 * counts as better). The word vectors are the encoder's and stay fixed: the model learns only to
 * align and compare.
 */
export async function fitCrossAttention(train: readonly Pair[], valid: readonly Pair[], vectors: WordVectors, options: CrossAttentionOptions = {}): Promise<CrossAttentionFit> {
  const s = { ...CROSS_ATTENTION_DEFAULTS, ...options.settings };
  const log = options.log ?? (() => {});
  await initBackend(options.backend, log);
  const dim = wordVectorDim(train, vectors);
  const data = encode(train, vectors, dim);
  const validLabels = valid.map((p) => p.label);
  const table = tf.tensor2d(data.table, [data.table.length / dim, dim]);
  const random = new Random(s.seed);
  const vars = initVars(dim, s.hidden, random);
  const optimizer = tf.train.adam(s.learningRate);
  const curve: number[] = [];
  let best: CrossAttention | undefined;
  let bestAuc = -Infinity;
  try {
    for (let epoch = 1; epoch <= Math.max(1, s.epochs) && epoch - (best?.json.epoch ?? 0) <= Math.max(1, s.patience); epoch++) {
      const started = Date.now();
      const order = random.shuffle([...data.labels.keys()]);
      let loss = 0;
      for (let i = 0; i < order.length; i += s.batchSize) {
        const rows = order.slice(i, i + s.batchSize);
        const batch = makeBatch(
          rows.map((r) => data.a[r]),
          rows.map((r) => data.b[r]),
        );
        const labels = tf.tensor1d(rows.map((r) => data.labels[r]));
        const cost = optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(labels, crossAttentionGraph(vars, table, batch)) as tf.Scalar, true, Object.values(vars));
        loss += cost!.dataSync()[0] * rows.length;
        tf.dispose([cost!, labels]);
        disposeBatch(batch);
      }
      const model = new CrossAttention(toJson(vars, s.hidden, epoch, null), vectors);
      const auc = rocAuc(valid.map((p) => -model.logit(words(p.q1), words(p.q2))), validLabels);
      curve.push(auc);
      log(`cross-attention epoch ${epoch}: loss ${(loss / order.length).toFixed(4)}, validation ROC-AUC ${auc.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      if (!best || auc > bestAuc) {
        if (Number.isFinite(auc)) bestAuc = auc;
        best = new CrossAttention({ ...model.json, validRocAuc: Number.isFinite(auc) ? auc : null }, vectors);
      }
    }
  } finally {
    tf.dispose([table, ...Object.values(vars)]);
    optimizer.dispose();
  }
  return { model: best!, curve };
}
