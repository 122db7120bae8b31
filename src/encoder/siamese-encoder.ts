import * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from '../text/encoder-tokenizer.js';
import { Random } from '../util/random.js';
import { type LstmInit, type ModelConfig, outputDim } from './config.js';
import { lstm, type LstmWeights } from './lstm.js';
import { maxOverTime } from './max-over-time.js';
import type { WeightMap } from './weights.js';
import { DoppelError } from '../errors.js';

const DIRECTIONS = ['fw', 'bw'] as const;

function glorotUniform(rng: Random, fanIn: number, fanOut: number, count: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: count }, () => (2 * rng.next() - 1) * limit);
}

/** Four stacked [H, H] orthogonal blocks (Gram-Schmidt on Gaussian columns), as Keras inits LSTMs. */
function orthogonalBlocks(rng: Random, h: number): Float32Array {
  const out = new Float32Array(h * 4 * h);
  for (let g = 0; g < 4; g++) {
    const cols: Float64Array[] = [];
    for (let j = 0; j < h; j++) {
      const v = Float64Array.from({ length: h }, () => rng.normal());
      for (const u of cols) {
        let dot = 0;
        for (let i = 0; i < h; i++) dot += v[i] * u[i];
        for (let i = 0; i < h; i++) v[i] -= dot * u[i];
      }
      const norm = Math.hypot(...v) || 1;
      for (let i = 0; i < h; i++) v[i] /= norm;
      cols.push(v);
      for (let i = 0; i < h; i++) out[i * 4 * h + g * h + j] = v[i];
    }
  }
  return out;
}

/**
 * The shared tower f_w: embedding -> (Bi)LSTM layers -> pooling -> optional projection. There is
 * one instance and one set of variables; both questions of a pair go through the same call, so
 * the siamese weight sharing holds by construction.
 */
let instances = 0;

export interface InitOptions {
  /**
   * `keras`: Glorot-uniform input kernels, orthogonal recurrent blocks, zero biases with a forget
   * bias of 1. `uniform`: every LSTM weight and bias from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's
   * nn.LSTM draws them (in the PyTorch reference on Quora pairs, the Keras init cost ~0.01
   * validation ROC-AUC in the first epochs).
   */
  lstmInit?: LstmInit;
}

export interface EmbedOptions {
  /** Dropout rate on the word embeddings (training only). */
  dropout?: number;
  seed?: number;
  /** Look words up in this split table instead of the `embedding` variable (training only). */
  table?: EmbeddingTable;
}

/**
 * The embedding matrix split into the rows that training updates and the rows it keeps fixed
 * (words that no training text uses: their pretrained vectors stay as they are). Only the
 * trainable rows are a variable, so an embedding lookup's gradient and the optimizer's slots
 * cover those rows alone, however many fixed pretrained words the vocabulary carries.
 */
export interface EmbeddingTable {
  /** [trainable rows, dim]: the variable to optimise. */
  trainable: tf.Variable;
  /** [fixed rows, dim]: a constant. */
  fixed: tf.Tensor2D;
  /** For each token id: its row in `trainable` (>= 0), or -1 - its row in `fixed`. */
  rowOf: Int32Array;
}

/** Splits `embedding` [V, dim] into trainable rows (`trained[id]` true) and fixed rows. */
export function splitEmbedding(embedding: tf.Tensor2D, trained: ArrayLike<boolean>, name: string): EmbeddingTable {
  const [V, E] = embedding.shape;
  const values = embedding.dataSync();
  const rowOf = new Int32Array(V);
  let nTrain = 0;
  let nFixed = 0;
  for (let id = 0; id < V; id++) rowOf[id] = trained[id] ? nTrain++ : -1 - nFixed++;
  const t = new Float32Array(nTrain * E);
  const f = new Float32Array(nFixed * E);
  for (let id = 0; id < V; id++) {
    const row = values.subarray(id * E, (id + 1) * E);
    if (rowOf[id] >= 0) t.set(row, rowOf[id] * E);
    else f.set(row, (-1 - rowOf[id]) * E);
  }
  return { trainable: tf.variable(tf.tensor2d(t, [nTrain, E]), true, name), fixed: tf.tensor2d(f, [nFixed, E]), rowOf };
}

/** Writes the trainable rows of `table` back into the full matrix `embedding`. */
export function mergeEmbedding(embedding: tf.Variable, table: EmbeddingTable): void {
  const E = embedding.shape[1]!;
  const full = Float32Array.from(embedding.dataSync() as Float32Array);
  const t = table.trainable.dataSync();
  table.rowOf.forEach((row, id) => {
    if (row >= 0) full.set(t.subarray(row * E, (row + 1) * E), id * E);
  });
  tf.tidy(() => embedding.assign(tf.tensor(full, embedding.shape)));
}

export class SiameseEncoder {
  readonly config: ModelConfig;
  readonly variables: Map<string, tf.Variable>;
  /** Unique per instance: tfjs variable names are global. */
  readonly prefix: string;

  private constructor(config: ModelConfig, variables: Map<string, tf.Variable>, prefix: string) {
    this.config = config;
    this.variables = variables;
    this.prefix = prefix;
  }

  /** Names and shapes of every parameter, in a stable order. */
  static parameterShapes(config: ModelConfig): [string, number[]][] {
    const H = config.hiddenUnits;
    const dirs = config.bidirectional ? DIRECTIONS : DIRECTIONS.slice(0, 1);
    const shapes: [string, number[]][] = [['embedding', [config.vocabSize, config.embeddingDim]]];
    for (let l = 0; l < config.layers; l++) {
      const inputDim = l === 0 ? config.embeddingDim : H * dirs.length;
      for (const d of dirs) {
        shapes.push([`lstm${l}.${d}.kernel`, [inputDim, 4 * H]]);
        shapes.push([`lstm${l}.${d}.recurrent`, [H, 4 * H]]);
        shapes.push([`lstm${l}.${d}.bias`, [4 * H]]);
      }
    }
    if (config.projection > 0) {
      const pooled = H * dirs.length;
      shapes.push(['projection.kernel', [pooled, config.projection]]);
      shapes.push(['projection.bias', [config.projection]]);
    }
    return shapes;
  }

  /** Fresh weights; `embeddingInit` (vocab x dim, e.g. GloVe rows) replaces the random embedding. */
  static initialise(config: ModelConfig, seed: number, embeddingInit?: Float32Array, options: InitOptions = {}): SiameseEncoder {
    const rng = new Random(seed);
    const uniform = options.lstmInit === 'uniform';
    const k = 1 / Math.sqrt(config.hiddenUnits);
    const u = (count: number) => Float32Array.from({ length: count }, () => (2 * rng.next() - 1) * k);
    const weights: WeightMap = new Map();
    for (const [name, shape] of SiameseEncoder.parameterShapes(config)) {
      const count = tf.util.sizeFromShape(shape);
      let values: Float32Array;
      if (name === 'embedding') {
        values = embeddingInit ?? Float32Array.from({ length: count }, () => rng.normal() * 0.1);
        values.fill(0, 0, config.embeddingDim); // the pad token (id 0) embeds to zero
      } else if (uniform && name.startsWith('lstm')) {
        // U(-1/sqrt(H), 1/sqrt(H)) everywhere; the bias as the sum of an input and a recurrent bias.
        values = u(count);
        if (name.endsWith('.bias')) u(count).forEach((x, i) => (values[i] += x));
      } else if (name.endsWith('.recurrent')) {
        values = orthogonalBlocks(rng, config.hiddenUnits);
      } else if (name.endsWith('.bias')) {
        values = new Float32Array(count);
        // A forget-gate bias of 1 lets gradients flow through long sequences early in training.
        if (name.startsWith('lstm')) values.fill(1, config.hiddenUnits, 2 * config.hiddenUnits);
      } else {
        values = glorotUniform(rng, shape[0], shape[1], count);
      }
      weights.set(name, { shape, values });
    }
    return SiameseEncoder.fromWeights(config, weights);
  }

  static fromWeights(config: ModelConfig, weights: WeightMap): SiameseEncoder {
    const prefix = `doppel${instances++}`;
    const variables = new Map<string, tf.Variable>();
    for (const [name, shape] of SiameseEncoder.parameterShapes(config)) {
      const w = weights.get(name);
      if (!w) throw new DoppelError('MODEL_ERROR', `missing weight ${name}`);
      if (w.shape.join('x') !== shape.join('x')) throw new DoppelError('MODEL_ERROR', `weight ${name} has shape ${w.shape}, expected ${shape}`);
      variables.set(name, tf.variable(tf.tensor(w.values, shape), true, `${prefix}/${name}`));
    }
    return new SiameseEncoder(config, variables, prefix);
  }

  get dim(): number {
    return outputDim(this.config);
  }

  private v<T extends tf.Tensor>(name: string): T {
    return this.variables.get(name)! as unknown as T;
  }

  /** The last layer's states at every step [T, N, H], the padding mask [T, N, 1] and the last states. */
  private states(batch: TokenBatch, options: EmbedOptions): { x: tf.Tensor3D; mask: tf.Tensor3D; lasts: tf.Tensor2D[] } {
    const { count: N, length: T } = batch;
    const maskValues = new Float32Array(T * N);
    for (let n = 0; n < N; n++) for (let t = 0; t < batch.lengths[n]; t++) maskValues[t * N + n] = 1;
    const mask = tf.tensor3d(maskValues, [T, N, 1]);
    const stepMasks = tf.unstack(mask) as tf.Tensor2D[];
    let x = this.lookup(batch, options.table); // time-major [T, N, E]
    if (options.dropout) x = tf.dropout(x, options.dropout, undefined, options.seed) as tf.Tensor3D;
    const dirs = this.config.bidirectional ? DIRECTIONS : DIRECTIONS.slice(0, 1);
    let lasts: tf.Tensor2D[] = [];
    for (let l = 0; l < this.config.layers; l++) {
      const runs = dirs.map((d) => {
        const w: LstmWeights = {
          kernel: this.v(`lstm${l}.${d}.kernel`),
          recurrent: this.v(`lstm${l}.${d}.recurrent`),
          bias: this.v(`lstm${l}.${d}.bias`),
        };
        return lstm(x, stepMasks, w, d === 'bw');
      });
      x = runs.length === 1 ? runs[0].sequence : (tf.concat(runs.map((r) => r.sequence), 2) as tf.Tensor3D);
      lasts = runs.map((r) => r.last);
    }
    return { x, mask, lasts };
  }

  /**
   * For a max-pooled encoder without projection: which step each output dimension was taken
   * from, per sequence ([N][dim]), with the pooled vectors. With max pooling every dimension of
   * the embedding is one token's state, which is what lets a similarity be split over word pairs.
   */
  maxPositions(batch: TokenBatch): { positions: Int32Array[]; vectors: Float32Array[] } {
    if (this.config.pooling !== 'max' || this.config.projection > 0) throw new DoppelError('INTERNAL', 'maxPositions needs max pooling without projection');
    const { count: N, length: T } = batch;
    const values = tf.tidy(() => {
      const { x, mask } = this.states(batch, {});
      return tf.add(x, tf.mul(tf.sub(mask, 1), 1e4));
    });
    const data = values.dataSync();
    const D = values.shape[2]!;
    values.dispose();
    const positions = Array.from({ length: N }, () => new Int32Array(D));
    const vectors = Array.from({ length: N }, () => new Float32Array(D).fill(-Infinity));
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        const base = (t * N + n) * D;
        for (let d = 0; d < D; d++) {
          if (data[base + d] > vectors[n][d]) {
            vectors[n][d] = data[base + d];
            positions[n][d] = t;
          }
        }
      }
    }
    return { positions, vectors };
  }

  /** Embeds a batch of token sequences into [N, dim]. Call inside tf.tidy (or a gradient). */
  embed(batch: TokenBatch, options: EmbedOptions = {}): tf.Tensor2D {
    const { count: N } = batch;
    const { x, mask, lasts } = this.states(batch, options);
    let pooled: tf.Tensor2D;
    switch (this.config.pooling) {
      case 'last':
        pooled = lasts.length === 1 ? lasts[0] : tf.concat(lasts, 1);
        break;
      case 'mean': {
        const lengths = tf.tensor2d(Float32Array.from(batch.lengths), [N, 1]);
        pooled = tf.div(tf.sum(tf.mul(x, mask), 0), lengths);
        break;
      }
      case 'max':
        // Padding steps hold carried (or zero) states, not token states: push them out of the max.
        pooled = maxOverTime(tf.add(x, tf.mul(tf.sub(mask, 1), 1e4)) as tf.Tensor3D);
        break;
    }
    if (this.config.projection > 0) {
      pooled = tf.add(tf.matMul(pooled, this.v<tf.Tensor2D>('projection.kernel')), this.v('projection.bias'));
    }
    return pooled;
  }

  private lookup(batch: TokenBatch, table?: EmbeddingTable): tf.Tensor3D {
    const { count: N, length: T } = batch;
    if (!table) {
      const ids = tf.tensor2d(batch.ids, [N, T], 'int32');
      return tf.gather(this.v<tf.Tensor2D>('embedding'), tf.transpose(ids)) as unknown as tf.Tensor3D;
    }
    // Each step takes its row from the trainable or the fixed part; the other lookup reads row 0
    // and is masked out, so only trainable rows receive a gradient.
    const trainIds = new Int32Array(T * N);
    const fixedIds = new Int32Array(T * N);
    const fromTrain = new Float32Array(T * N);
    let anyFixed = false;
    for (let n = 0; n < N; n++) {
      for (let t = 0; t < T; t++) {
        const row = table.rowOf[batch.ids[n * T + t]];
        if (row >= 0) {
          trainIds[t * N + n] = row;
          fromTrain[t * N + n] = 1;
        } else {
          fixedIds[t * N + n] = -1 - row;
          anyFixed = true;
        }
      }
    }
    const trained = tf.gather(table.trainable, tf.tensor2d(trainIds, [T, N], 'int32')) as tf.Tensor3D;
    if (!anyFixed) return trained;
    const m = tf.tensor3d(fromTrain, [T, N, 1]);
    const fixed = tf.gather(table.fixed, tf.tensor2d(fixedIds, [T, N], 'int32'));
    return tf.add(tf.mul(trained, m), tf.mul(fixed, tf.sub(1, m))) as tf.Tensor3D;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}
