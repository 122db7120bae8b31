import type { Pair } from '../data/pairs.js';
import { pairClusters } from '../data/split.js';
import { classify, maxAccuracyThreshold, precisionRecallF1, rocAuc } from '../evaluation/binary-classification.js';
import { Random } from '../util/random.js';
import { Logistic } from '../verdict/logistic.js';
import { DEFAULT_OPERATING_POINT, type OperatingPoints } from '../verdict/operating-points.js';
import { STACK_INPUTS, type Verdict, type VerdictJson } from '../verdict/verdict.js';
import { clusterWeights } from './fit-verdict.js';
import { chooseOperatingPoints } from './operating-points.js';

/** Stack inputs of labelled pairs (Verdict.inputs), and which pairs the identical-text rule decides (probability 1, as Verdict.judge says). */
export interface StackRows {
  pairs: readonly Pair[];
  rows: readonly Float64Array[];
  identical: readonly boolean[];
}

/** The rows of labelled pairs whose energies are known. */
export function stackRows(verdict: Verdict, pairs: readonly Pair[], energies: ArrayLike<number>): StackRows {
  return { pairs, rows: pairs.map((p, i) => verdict.inputs(p.q1, p.q2, energies[i])), identical: pairs.map((p) => verdict.sameQuestion(p.q1, p.q2)) };
}

/** Pair i's probability under a stack, as the verdict judges it. */
export const stackProbability = (stack: Logistic, rows: StackRows, i: number): number => (rows.identical[i] ? 1 : sigmoid(stack.logit(rows.rows[i])));

/** Precision, recall and accuracy of a decision on labelled pairs, with ROC-AUC of the probabilities. */
export interface ReviewedMetrics {
  pairs: number;
  accuracy: number;
  precision: number;
  recall: number;
  rocAuc: number;
  threshold: number;
}

export interface StackRefit {
  verdict: VerdictJson;
  /** The share of the fit's weight the reviewed pairs carry, chosen by cross-validation on them. */
  reviewedShare: number;
  /** The refit's out-of-fold probabilities of the reviewed pairs: each from a stack that did not fit on it. */
  crossValidated: number[];
  /** The reviewed pairs judged out of fold: each by a stack and a default threshold chosen without it (ROC-AUC of the out-of-fold probabilities). */
  refit: ReviewedMetrics;
}

/** The shares of weight the reviewed pairs may take; the rest stays with the validation pairs. */
const SHARES = [0.25, 0.5, 0.75, 0.9] as const;
const FOLDS = 5;
/** Fewest reviewed pairs a refit accepts, and fewest of each label among them. */
export const MIN_REVIEWED = { pairs: 20, perLabel: 5 };

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Accuracy, precision and recall of yes/no decisions against labels. */
function decisionMetrics(decisions: readonly boolean[], labels: readonly number[]): { pairs: number; accuracy: number; precision: number; recall: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  decisions.forEach((d, i) => {
    if (d === (labels[i] === 1)) correct++;
    if (d && labels[i] === 1) tp++;
    else if (d) fp++;
    else if (labels[i] === 1) fn++;
  });
  const { precision, recall } = precisionRecallF1(tp, fp, fn);
  return { pairs: decisions.length, accuracy: correct / decisions.length, precision, recall };
}

/** Metrics of calling p >= threshold a duplicate. */
export function reviewedMetrics(probabilities: readonly number[], labels: ArrayLike<number>, threshold: number): ReviewedMetrics {
  // classify and rocAuc read energies (lower = duplicate): 1 - p is one.
  const energies = probabilities.map((p) => 1 - p);
  const c = classify(energies, labels, 1 - threshold);
  return { pairs: probabilities.length, accuracy: c.accuracy, precision: c.precision, recall: c.recall, rocAuc: rocAuc(energies, labels), threshold };
}

/** Fold of each reviewed pair: whole question clusters to a fold, so a fold never sees its questions' neighbours. */
function folds(pairs: readonly Pair[], seed: number): Int32Array {
  const fold = new Int32Array(pairs.length);
  new Random(seed).shuffle(pairClusters(pairs)).forEach((cluster, k) => {
    for (const i of cluster) fold[i] = k % FOLDS;
  });
  return fold;
}

/**
 * Weights of the combined fit: each side's cluster weights (see clusterWeights), scaled so that the
 * reviewed pairs carry `share` of the total and the total is what the two sides' weights add up to
 * (so the L2 penalty means what it meant in the first fit).
 */
function combinedWeights(valid: readonly Pair[], reviewed: readonly Pair[], share: number): Float64Array {
  const v = clusterWeights(valid);
  const r = clusterWeights(reviewed);
  const sum = (w: Float64Array) => w.reduce((a, b) => a + b, 0);
  const total = sum(v) + sum(r);
  const scaleV = ((1 - share) * total) / sum(v);
  const scaleR = (share * total) / sum(r);
  return Float64Array.from([...v.map((w) => w * scaleV), ...r.map((w) => w * scaleR)]);
}

function fitStack(valid: StackRows, reviewed: StackRows, use: (i: number) => boolean, share: number): Logistic {
  const kept = reviewed.pairs.map((_, i) => i).filter(use);
  const keptPairs = kept.map((i) => reviewed.pairs[i]);
  const rows = [...valid.rows, ...kept.map((i) => reviewed.rows[i])];
  const labels = [...valid.pairs, ...keptPairs].map((p) => p.label);
  return Logistic.fit([...STACK_INPUTS], rows, labels, { weights: combinedWeights(valid.pairs, keptPairs, share) });
}

/**
 * Out-of-fold figures of the reviewed pairs for one share: each pair's probability under a stack
 * that did not fit on it, and that stack's decision at its own default operating point, chosen
 * (as the final one is) on the pairs it fit on; neither reads the held-out pair's label.
 */
function outOfFold(valid: StackRows, reviewed: StackRows, fold: Int32Array, share: number): { probabilities: number[]; decisions: boolean[] } {
  const probabilities = new Array<number>(reviewed.pairs.length);
  const decisions = new Array<boolean>(reviewed.pairs.length);
  for (let k = 0; k < FOLDS; k++) {
    const stack = fitStack(valid, reviewed, (i) => fold[i] !== k, share);
    const kept = reviewed.pairs.map((_, i) => i).filter((i) => fold[i] !== k);
    const fitted = [...valid.rows.map((_, i) => stackProbability(stack, valid, i)), ...kept.map((i) => stackProbability(stack, reviewed, i))];
    const labels = [...valid.pairs, ...kept.map((i) => reviewed.pairs[i])].map((p) => p.label);
    const threshold = chooseOperatingPoints(fitted, labels, combinedWeights(valid.pairs, kept.map((i) => reviewed.pairs[i]), share))[DEFAULT_OPERATING_POINT].threshold;
    reviewed.rows.forEach((_, i) => {
      if (fold[i] !== k) return;
      probabilities[i] = stackProbability(stack, reviewed, i);
      decisions[i] = probabilities[i] >= threshold;
    });
  }
  return { probabilities, decisions };
}

/** Mean log-loss of probabilities against labels. */
function logLoss(probabilities: readonly number[], pairs: readonly Pair[]): number {
  let loss = 0;
  probabilities.forEach((p, i) => {
    const q = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
    loss -= pairs[i].label ? Math.log(q) : Math.log(1 - q);
  });
  return loss / probabilities.length;
}

/**
 * Refits the verdict's last step, the stacked regression, on the validation pairs it was fit on
 * plus a forum's reviewed pairs; the encoder, the trees and the cross-attention model stay as they
 * are, so a refit takes seconds and a store's vectors stay valid. How much weight the reviewed
 * pairs get is chosen by 5-fold cross-validation on them (grouped by question cluster, by
 * log-loss): a few hundred decisions should move a general model towards a forum's questions
 * without letting a handful of them overrule thousands of validation pairs. The threshold and the
 * operating points are chosen on the validation probabilities and the reviewed pairs'
 * out-of-fold ones, weighted as the fit is, so they describe the forum's own pairs honestly.
 */
export function refitStack(current: VerdictJson, valid: StackRows, reviewed: StackRows, seed = 42): StackRefit {
  const fold = folds(reviewed.pairs, seed);
  let best: { share: number; probabilities: number[]; decisions: boolean[]; loss: number } | undefined;
  for (const share of SHARES) {
    const oof = outOfFold(valid, reviewed, fold, share);
    const loss = logLoss(oof.probabilities, reviewed.pairs);
    if (!best || loss < best.loss) best = { share, ...oof, loss };
  }
  const { share, probabilities: crossValidated, decisions } = best!;
  const stack = fitStack(valid, reviewed, () => true, share);
  const weights = combinedWeights(valid.pairs, reviewed.pairs, share);
  const probabilities = [...valid.rows.map((_, i) => stackProbability(stack, valid, i)), ...crossValidated];
  const labels = [...valid.pairs, ...reviewed.pairs].map((p) => p.label);
  const operatingPoints: OperatingPoints = chooseOperatingPoints(probabilities, labels, weights);
  // As in fitVerdict: thresholds are found on energies, and 1 - p is one.
  const threshold = 1 - maxAccuracyThreshold(probabilities.map((p) => 1 - p), labels, weights);
  const verdict: VerdictJson = { ...current, stack: stack.json, threshold, operatingPoints };
  // Judged as the refit would judge new pairs: by stacks and thresholds that never saw them.
  const labelsReviewed = reviewed.pairs.map((p) => p.label);
  const refit = { ...decisionMetrics(decisions, labelsReviewed), rocAuc: rocAuc(crossValidated.map((p) => 1 - p), labelsReviewed), threshold: operatingPoints[DEFAULT_OPERATING_POINT].threshold };
  return { verdict, reviewedShare: share, crossValidated, refit };
}
