/**
 * Binary-classification evaluator for labelled pairs (as sentence-transformers'
 * BinaryClassificationEvaluator): each pair's energy decides it, a duplicate (label 1) when the
 * energy is at most the threshold. Lower energy = more alike.
 */
import type { Pair } from '../data/pairs.js';
import type { Energy } from '../encoder/energies/registry.js';
import type { QuestionEncoder } from '../encoder/question-encoder.js';
import { DoppelError } from '../errors.js';

export interface BinaryMetrics {
  pairs: number;
  accuracy: number;
  f1: number;
  precision: number;
  recall: number;
  rocAuc: number;
  averagePrecision: number;
  threshold: number;
}

/**
 * Precision TP / (TP + FP), recall TP / (TP + FN) and their harmonic mean F1 = 2PR / (P + R),
 * each 0 where its denominator is 0.
 */
export function precisionRecallF1(tp: number, fp: number, fn: number): { precision: number; recall: number; f1: number } {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

/** Accuracy (TP + TN) / N, precision, recall and F1 of calling `energy <= threshold` a duplicate. */
export function classify(energies: ArrayLike<number>, labels: ArrayLike<number>, threshold: number) {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < energies.length; i++) {
    const predicted = energies[i] <= threshold;
    if (predicted && labels[i] === 1) tp++;
    else if (predicted) fp++;
    else if (labels[i] === 1) fn++;
    else tn++;
  }
  const { precision, recall, f1 } = precisionRecallF1(tp, fp, fn);
  return { accuracy: (tp + tn) / Math.max(1, energies.length), precision, recall, f1 };
}

/** Indices sorted by ascending energy (most duplicate-like first). */
function byEnergy(energies: ArrayLike<number>): number[] {
  return [...Array(energies.length).keys()].sort((x, y) => energies[x] - energies[y]);
}

/**
 * ROC AUC by the rank statistic (Mann-Whitney U; Hanley & McNeil 1982), ties counted half:
 * AUC = (R+ - n+(n+ + 1)/2) / (n+ n-), R+ the rank sum of the positives scored by -energy.
 * NaN when either class is absent.
 */
export function rocAuc(energies: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = byEnergy(energies);
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < labels.length; i++) labels[i] === 1 ? positives++ : negatives++;
  if (positives === 0 || negatives === 0) return NaN;
  // The score is -energy, so the item at ascending-energy position k has score rank N - k.
  let rankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && energies[order[j + 1]] === energies[order[i]]) j++;
    const avgRank = order.length - (i + j) / 2;
    for (let k = i; k <= j; k++) if (labels[order[k]] === 1) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision of ranking pairs by ascending energy: AP = (1 / |P|) sum over the positives
 * of precision@rank (as scikit-learn's average_precision_score, without interpolation).
 */
export function averagePrecision(energies: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = byEnergy(energies);
  let hits = 0;
  let sum = 0;
  order.forEach((idx, rank) => {
    if (labels[idx] === 1) {
      hits++;
      sum += hits / (rank + 1);
    }
  });
  return hits === 0 ? 0 : sum / hits;
}

/** ROC points (false-positive rate, true-positive rate) as the threshold sweeps up. */
export function rocCurve(energies: ArrayLike<number>, labels: ArrayLike<number>, points = 200): [number, number][] {
  const order = byEnergy(energies);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  const curve: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  const step = Math.max(1, Math.floor(order.length / points));
  order.forEach((idx, k) => {
    labels[idx] === 1 ? tp++ : fp++;
    if (k % step === step - 1 || k === order.length - 1) curve.push([fp / Math.max(1, negatives), tp / Math.max(1, positives)]);
  });
  return curve;
}

/** Every metric at once: the threshold-free ROC-AUC and AP, the others at `threshold`. */
export function binaryMetrics(energies: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): BinaryMetrics {
  return {
    pairs: energies.length,
    ...classify(energies, labels, threshold),
    rocAuc: rocAuc(energies, labels),
    averagePrecision: averagePrecision(energies, labels),
    threshold,
  };
}

/**
 * Candidate thresholds, visited in ascending order with the true and false positives at each
 * (sums of weights, when given): midpoints between consecutive distinct sorted energies (the
 * last one just above the largest).
 */
function sweep(energies: ArrayLike<number>, labels: ArrayLike<number>, visit: (threshold: number, tp: number, fp: number) => void, weights?: ArrayLike<number>) {
  const order = byEnergy(energies);
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const w = weights ? weights[order[k]] : 1;
    if (labels[order[k]] === 1) tp += w;
    else fp += w;
    const here = energies[order[k]];
    const next = k + 1 < order.length ? energies[order[k + 1]] : here + 1e-6;
    if (next !== here) visit((here + next) / 2, tp, fp);
  }
}

/** The energy threshold that maximises (weighted) accuracy (energy <= threshold means duplicate). */
export function maxAccuracyThreshold(energies: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): number {
  let negatives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 1) negatives += weights ? weights[i] : 1;
  let best = { correct: negatives, threshold: -Infinity };
  sweep(
    energies,
    labels,
    (threshold, tp, fp) => {
      const correct = tp + (negatives - fp);
      if (correct > best.correct) best = { correct, threshold };
    },
    weights,
  );
  return Number.isFinite(best.threshold) ? best.threshold : Math.min(...Array.from(energies)) - 1e-6;
}

/** The largest threshold whose precision still reaches `target` (maximum recall at that precision). */
export function precisionThreshold(energies: ArrayLike<number>, labels: ArrayLike<number>, target: number): number {
  let chosen = -Infinity;
  sweep(energies, labels, (threshold, tp, fp) => {
    if (tp / (tp + fp) >= target) chosen = threshold;
  });
  if (!Number.isFinite(chosen)) throw new DoppelError('INVALID_INPUT', `no threshold reaches precision ${target} on the validation pairs`);
  return chosen;
}

/** Energies of labelled pairs, each distinct text encoded once. */
export async function pairEnergies(encoder: QuestionEncoder, energy: Energy, pairs: readonly Pair[]): Promise<{ energies: Float32Array; labels: Float32Array }> {
  const index = new Map<string, number>();
  for (const p of pairs) for (const q of [p.q1, p.q2]) if (!index.has(q)) index.set(q, index.size);
  const vectors = await encoder.encode([...index.keys()]);
  const dim = encoder.dim;
  const row = (q: string) => vectors.subarray(index.get(q)! * dim, (index.get(q)! + 1) * dim);
  return {
    energies: Float32Array.from(pairs, (p) => energy.vectors(row(p.q1), row(p.q2))),
    labels: Float32Array.from(pairs, (p) => p.label),
  };
}

/**
 * The evaluator: encodes the pairs and scores them at `threshold`, or, without one, at the
 * threshold of maximum accuracy on these pairs (what training validates with). `doppel eval`,
 * the validation of every training epoch and the final calibration run through here.
 */
export async function evaluatePairs(
  encoder: QuestionEncoder,
  energy: Energy,
  pairs: readonly Pair[],
  threshold?: number,
): Promise<{ energies: Float32Array; labels: Float32Array; metrics: BinaryMetrics }> {
  const { energies, labels } = await pairEnergies(encoder, energy, pairs);
  return { energies, labels, metrics: binaryMetrics(energies, labels, threshold ?? maxAccuracyThreshold(energies, labels)) };
}
