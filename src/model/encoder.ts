import * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from '../text/tokenizer.js';
import { Random } from '../util/random.js';
import { type ModelConfig, outputDim } from './config.js';
import { lstm, type LstmWeights } from './lstm.js';
import { maxOverTime } from './max-over-time.js';
import type { WeightMap } from './weights.js';

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

export interface EmbedOptions {
  /** Dropout rate on the word embeddings (training only). */
  dropout?: number;
  seed?: number;
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
  static initialise(config: ModelConfig, seed: number, embeddingInit?: Float32Array): SiameseEncoder {
    const rng = new Random(seed);
    const weights: WeightMap = new Map();
    for (const [name, shape] of SiameseEncoder.parameterShapes(config)) {
      const count = tf.util.sizeFromShape(shape);
      let values: Float32Array;
      if (name === 'embedding') {
        values = embeddingInit ?? Float32Array.from({ length: count }, () => rng.normal() * 0.1);
        values.fill(0, 0, config.embeddingDim); // the pad token (id 0) embeds to zero
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
      if (!w) throw new Error(`missing weight ${name}`);
      if (w.shape.join('x') !== shape.join('x')) throw new Error(`weight ${name} has shape ${w.shape}, expected ${shape}`);
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

  /** Embeds a batch of token sequences into [N, dim]. Call inside tf.tidy (or a gradient). */
  embed(batch: TokenBatch, options: EmbedOptions = {}): tf.Tensor2D {
    const { count: N, length: T } = batch;
    const maskValues = new Float32Array(T * N);
    for (let n = 0; n < N; n++) for (let t = 0; t < batch.lengths[n]; t++) maskValues[t * N + n] = 1;
    const mask = tf.tensor3d(maskValues, [T, N, 1]);
    const stepMasks = tf.unstack(mask) as tf.Tensor2D[];
    const ids = tf.tensor2d(batch.ids, [N, T], 'int32');
    let x = tf.gather(this.v<tf.Tensor2D>('embedding'), tf.transpose(ids)) as unknown as tf.Tensor3D; // time-major [T, N, E]
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

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}
