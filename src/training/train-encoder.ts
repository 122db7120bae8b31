import * as tf from '@tensorflow/tfjs-core';
import type { Pair } from '../data/pairs.js';
import type { Tokenizer } from '../text/encoder-tokenizer.js';
import { Random } from '../util/random.js';
import { ENERGIES } from '../encoder/energies/registry.js';
import { DoppelError } from '../errors.js';
import { type EmbeddingTable, mergeEmbedding, type SiameseEncoder, splitEmbedding } from '../encoder/siamese-encoder.js';
import { type BinaryMetrics, evaluatePairs } from '../evaluation/binary-classification.js';
import { multipleNegativesRanking } from './losses/multiple-negatives-ranking.js';
import type { Loss } from './losses/loss.js';
import { parseLoss } from './losses/registry.js';
import { optimizerState, restoreOptimizerState } from './optimizer-state.js';
import { TfjsQuestionEncoder } from '../encoder/question-encoder.js';
import type { WeightMap } from '../encoder/weights.js';
import { type EncodedPair, encodePairs, epochBatches, towerBatch } from './batches.js';

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Gradients are rescaled when their global norm exceeds this; 0: never. */
  clipNorm: number;
  dropout: number;
  /** Loss spec, e.g. `contrastive` or `mnrl+contrastive`. */
  loss: string;
  margin: number;
  scale: number;
  /** Epochs without a better validation ROC-AUC before stopping. */
  patience: number;
  /**
   * After every this many pair steps, one in-batch ranking step on a batch of duplicate pairs
   * only (0: none). A batch of only duplicates gives the ranking loss B-1 negatives per anchor
   * instead of the few a mixed batch has; the reference's "C" recipe, its better retriever.
   */
  rankingEvery?: number;
  /** Keep the (pretrained) word embeddings fixed: fewer parameters to overfit a small pair set. */
  freezeEmbeddings?: boolean;
  /**
   * Optimise only the embedding rows of tokens that occur in the training pairs; the others
   * (pretrained words seen only in other text) keep their vectors. They would get no gradient
   * anyway, so the result is the same; the lookup gradient and Adam's slots just stay the size
   * of the training vocabulary, however many pretrained words the vocabulary adds.
   */
  splitEmbedding?: boolean;
  seed: number;
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  seconds: number;
  pairsPerSecond: number;
  /** Validation metrics at that epoch's maximum-accuracy threshold. */
  valid: BinaryMetrics;
}

export interface TrainerState {
  /** Epochs completed. */
  epoch: number;
  bestEpoch: number;
  bestAuc: number;
  history: EpochReport[];
}

export interface Progress {
  epoch: number;
  epochs: number;
  done: number;
  total: number;
  loss: number;
  pairsPerSecond: number;
}

export interface TrainHooks {
  onProgress?(progress: Progress): void;
  /** After each epoch, with the optimizer state for a resumable checkpoint. */
  onEpoch?(report: EpochReport, improved: boolean, state: TrainerState, optimizer: () => Promise<WeightMap>): Promise<void>;
}

export interface ResumeFrom {
  state: TrainerState;
  optimizer: WeightMap;
}

/** Validation energies and metrics of the encoder as it is now. */
export async function validate(encoder: SiameseEncoder, tokenizer: Tokenizer, pairs: Pair[]): Promise<{ energies: Float32Array; labels: Float32Array; metrics: BinaryMetrics }> {
  return evaluatePairs(new TfjsQuestionEncoder(encoder, tokenizer), ENERGIES[encoder.config.energy], pairs);
}

/**
 * Trains the shared tower on labelled pairs with early stopping on validation ROC-AUC. Both
 * questions of every pair run through the same encoder call, so gradients from both towers
 * land on the same variables.
 */
export async function trainEncoder(
  encoder: SiameseEncoder,
  tokenizer: Tokenizer,
  trainPairs: Pair[],
  validPairs: Pair[],
  settings: TrainSettings,
  hooks: TrainHooks = {},
  resume?: ResumeFrom,
): Promise<TrainerState> {
  const energy = ENERGIES[encoder.config.energy];
  const { loss } = parseLoss(settings.loss, settings);
  const encoded = encodePairs(tokenizer, trainPairs, encoder.config.maxLength);
  const optimizer = tf.train.adam(settings.learningRate);
  if (resume) await restoreOptimizerState(optimizer, resume.optimizer, encoder.prefix);
  const embedding = encoder.variables.get('embedding')!;
  let table: EmbeddingTable | undefined;
  if (settings.splitEmbedding && !settings.freezeEmbeddings) {
    const used = new Uint8Array(embedding.shape[0]);
    used[tokenizer.padId] = 1;
    for (const p of encoded) for (const id of [...p.a, ...p.b]) used[id] = 1;
    table = splitEmbedding(embedding as tf.Tensor as tf.Tensor2D, Array.from(used, Boolean), `${encoder.prefix}/embedding.trained`);
    const saved = resume?.optimizer.get('embedding.trained/m');
    if (saved && saved.shape[0] !== table.trainable.shape[0]) {
      throw new DoppelError('INVALID_INPUT', `--resume: the training pairs use ${table.trainable.shape[0]} vocabulary entries, the checkpoint ${saved.shape[0]}; resume with the same pairs`);
    }
  }
  const varList = [...encoder.variables]
    .filter(([name]) => !(name === 'embedding' && settings.freezeEmbeddings))
    .map(([name, v]) => (name === 'embedding' && table ? table.trainable : v));
  const state: TrainerState = resume?.state ?? { epoch: 0, bestEpoch: 0, bestAuc: -Infinity, history: [] };
  let step = 0;
  const ranking = multipleNegativesRanking(settings.scale);
  const duplicates = encoded.filter((p) => p.label === 1);
  let rankingBatches: EncodedPair[][] = [];

  /** One optimizer step on a batch; returns its loss. */
  const optimize = (batch: EncodedPair[], objective: Loss): number => {
    const labelValues = Float32Array.from(batch, (p) => p.label);
    const inputs = towerBatch(batch, tokenizer.padId);
    const dropoutSeed = settings.seed * 100003 + step++;
    const { value, grads } = tf.variableGrads(() => {
      const out = encoder.embed(inputs, { dropout: settings.dropout, seed: dropoutSeed, table });
      const [a, b] = tf.split(out, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return objective({ a, b, labels: tf.tensor1d(labelValues), labelValues }, energy);
    }, varList);
    const clipped = tf.tidy(() => {
      if (!(settings.clipNorm > 0)) return Object.entries(grads).map(([name, g]) => ({ name, tensor: tf.clone(g) }));
      const norm = Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
      const factor = norm > settings.clipNorm ? settings.clipNorm / norm : 1;
      return Object.entries(grads).map(([name, g]) => ({ name, tensor: factor === 1 ? tf.clone(g) : tf.mul(g, factor) }));
    });
    optimizer.applyGradients(clipped);
    const result = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads), ...clipped.map((c) => c.tensor)]);
    return result;
  };

  while (state.epoch < settings.epochs && state.epoch - state.bestEpoch < settings.patience) {
    const epoch = state.epoch + 1;
    const batches = epochBatches(encoded, settings.batchSize, new Random(settings.seed * 7919 + epoch));
    const started = performance.now();
    let done = 0;
    let lossSum = 0;
    for (const [i, batch] of batches.entries()) {
      lossSum += optimize(batch, loss) * batch.length;
      done += batch.length;
      if (settings.rankingEvery && (i + 1) % settings.rankingEvery === 0 && duplicates.length > 1) {
        if (rankingBatches.length === 0) rankingBatches = epochBatches(duplicates, settings.batchSize, new Random(settings.seed * 104729 + step));
        optimize(rankingBatches.pop()!, ranking);
      }
      const seconds = (performance.now() - started) / 1000;
      hooks.onProgress?.({ epoch, epochs: settings.epochs, done, total: encoded.length, loss: lossSum / done, pairsPerSecond: done / seconds });
    }
    const seconds = (performance.now() - started) / 1000;
    if (table) mergeEmbedding(embedding, table);
    const { metrics } = await validate(encoder, tokenizer, validPairs);
    const report: EpochReport = { epoch, trainLoss: lossSum / done, seconds, pairsPerSecond: done / seconds, valid: metrics };
    const improved = metrics.rocAuc > state.bestAuc;
    state.epoch = epoch;
    state.history.push(report);
    if (improved) {
      state.bestAuc = metrics.rocAuc;
      state.bestEpoch = epoch;
    }
    await hooks.onEpoch?.(report, improved, state, () => optimizerState(optimizer));
  }
  optimizer.dispose();
  if (table) tf.dispose([table.trainable, table.fixed]);
  return state;
}
