import type { Pair } from '../data/pairs.js';
import { pairClusters } from '../data/split.js';
import { binaryMetrics, type BinaryMetrics, maxAccuracyThreshold, precisionThreshold } from '../evaluation/binary-classification.js';
import type { BackendChoice } from '../encoder/backend.js';
import { analyse, type TextAnalysis } from '../verdict/analysis.js';
import { type CrossAttentionSettings, fitCrossAttention } from './fit-cross-attention.js';
import { pairFeatures } from '../verdict/features.js';
import { fitGbt, type GbtParams } from './fit-gbt.js';
import { chooseOperatingPoints } from './operating-points.js';
import { Idf } from '../verdict/idf.js';
import { Logistic } from '../verdict/logistic.js';
import { STACK_INPUTS, stackRow, Verdict } from '../verdict/verdict.js';
import type { WordVectors } from '../verdict/word-vectors.js';

/** Each pair's features and both texts' analyses, each distinct text analysed once. */
function featureRows(pairs: readonly Pair[], idf: Idf): { rows: Float64Array[]; analysed: [TextAnalysis, TextAnalysis][] } {
  const cache = new Map<string, TextAnalysis>();
  const of = (t: string) => {
    let a = cache.get(t);
    if (!a) cache.set(t, (a = analyse(t, idf)));
    return a;
  };
  const analysed = pairs.map((p): [TextAnalysis, TextAnalysis] => [of(p.q1), of(p.q2)]);
  return { rows: analysed.map(([a, b]) => pairFeatures(a, b, idf)), analysed };
}

export interface VerdictFit {
  verdict: Verdict;
  /** Trees kept by early stopping on the validation log-loss. */
  trees: number;
  /** The trees alone on the validation pairs (not trained on them; their early stopping watched them). */
  treesValidation: BinaryMetrics;
  /** The cross-attention model: the epoch kept and its validation ROC-AUC at each epoch (early stopping watched them). */
  crossAttention: { epoch: number; curve: number[]; seconds: number };
}

/**
 * Each pair's weight in the stack's fit: 1 / sqrt(pairs in its question cluster). Quora's
 * validation clusters run up to ~180 pairs on one question; unweighted, a handful of such topics
 * would outweigh thousands of small clusters, and new questions mostly arrive in small ones.
 * (Chosen by cross-validation on the validation pairs grouped by cluster, against 1, 1/n and min(1, 10/n).)
 */
export function clusterWeights(pairs: readonly Pair[]): Float64Array {
  const weights = new Float64Array(pairs.length);
  for (const cluster of pairClusters(pairs)) for (const i of cluster) weights[i] = 1 / Math.sqrt(cluster.length);
  return weights;
}

/**
 * Fits the verdict stage: IDF statistics, the gradient-boosted trees and the cross-attention model from
 * the training pairs, then the stacked regression and its threshold on the validation pairs
 * (weighted by clusterWeights), whose energies come from an encoder that never trained on them.
 * The trees and the cross-attention model learn from the encoder's own training pairs (9x more
 * than validation): neither reads the encoder's outputs on a pair, only the lexical features or
 * its fixed word vectors, and whatever they overfit the stack sees on validation pairs and weighs
 * down; both stop early on validation.
 */
export async function fitVerdict(
  train: readonly Pair[],
  valid: readonly Pair[],
  validEnergies: ArrayLike<number>,
  vectors: WordVectors,
  options: { gbt?: Partial<GbtParams>; crossAttention?: Partial<CrossAttentionSettings>; targetPrecision?: number; backend?: BackendChoice; log?: (message: string) => void } = {},
): Promise<VerdictFit> {
  const started = Date.now();
  const cross = await fitCrossAttention(train, valid, vectors, { settings: options.crossAttention, backend: options.backend, log: options.log });
  const crossSeconds = (Date.now() - started) / 1000;
  const idf = Idf.fit(train.flatMap((p) => [p.q1, p.q2]));
  const trainRows = featureRows(train, idf).rows;
  const { rows: validRows, analysed } = featureRows(valid, idf);
  const trainLabels = Float64Array.from(train, (p) => p.label);
  const validLabels = Float64Array.from(valid, (p) => p.label);
  const trees = fitGbt(trainRows, trainLabels, options.gbt, { rows: validRows, labels: validLabels });
  const treesLogits = validRows.map((r) => trees.logit(r));
  const stackRows = validRows.map((r, i) => stackRow(validEnergies[i], treesLogits[i], r, analysed[i][0].words, analysed[i][1].words, vectors, idf, cross.model));
  const weights = clusterWeights(valid);
  const stack = Logistic.fit([...STACK_INPUTS], stackRows, validLabels, { weights });
  const probabilities = stackRows.map((r) => 1 / (1 + Math.exp(-stack.logit(r))));
  // Thresholds are found on "energies" (lower = duplicate): 1 - p is one. A precision target is
  // the user's, per pair; accuracy is weighted as the fit is.
  const notDuplicate = probabilities.map((p) => 1 - p);
  const threshold = 1 - (options.targetPrecision ? precisionThreshold(notDuplicate, validLabels, options.targetPrecision) : maxAccuracyThreshold(notDuplicate, validLabels, weights));
  const operatingPoints = chooseOperatingPoints(probabilities, validLabels, weights);
  const verdict = new Verdict({ format: 'doppel-verdict/2', idf: idf.toJson(), trees: trees.json, stack: stack.json, crossAttention: cross.model.json, threshold, operatingPoints }, vectors);
  const negTrees = treesLogits.map((z) => -z);
  return {
    verdict,
    trees: trees.trees,
    treesValidation: binaryMetrics(negTrees, validLabels, maxAccuracyThreshold(negTrees, validLabels)),
    crossAttention: { epoch: cross.model.json.epoch, curve: cross.curve, seconds: crossSeconds },
  };
}

/** The verdict's metrics on labelled pairs with their energies, at its own threshold. */
export function verdictMetrics(verdict: Verdict, pairs: readonly Pair[], energies: ArrayLike<number>): BinaryMetrics {
  const scores = pairs.map((p, i) => 1 - verdict.judge(p.q1, p.q2, energies[i]).probability);
  const metrics = binaryMetrics(scores, Float64Array.from(pairs, (p) => p.label), 1 - verdict.threshold);
  return { ...metrics, threshold: verdict.threshold };
}
