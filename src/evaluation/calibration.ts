import { OPERATING_POINTS, type OperatingPointName, type OperatingPoints } from '../verdict/operating-points.js';

/**
 * Calibration of predicted probabilities (Naeini et al. 2015; Guo et al. 2017): pairs are put in
 * `bins` equal-width bins of probability, and the expected calibration error is
 * ECE = sum_b (n_b / n) |mean predicted p in b - share of duplicates in b|.
 * A probability of 0.9 then means about 9 in 10 when ECE is small.
 */
export interface ReliabilityBin {
  /** The bin [from, to). */
  from: number;
  to: number;
  pairs: number;
  /** Mean predicted probability of its pairs. */
  predicted: number;
  /** Share of its pairs that are duplicates. */
  observed: number;
}

export function reliability(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): { ece: number; bins: ReliabilityBin[] } {
  const acc = Array.from({ length: bins }, (_, b) => ({ from: b / bins, to: (b + 1) / bins, pairs: 0, predicted: 0, observed: 0 }));
  for (let i = 0; i < probabilities.length; i++) {
    const bin = acc[Math.min(bins - 1, Math.floor(probabilities[i] * bins))];
    bin.pairs++;
    bin.predicted += probabilities[i];
    bin.observed += labels[i];
  }
  let ece = 0;
  for (const b of acc) {
    if (b.pairs === 0) continue;
    b.predicted /= b.pairs;
    b.observed /= b.pairs;
    ece += (b.pairs / Math.max(1, probabilities.length)) * Math.abs(b.predicted - b.observed);
  }
  return { ece, bins: acc };
}

/** Precision and recall of `p >= threshold` on labelled pairs. */
export function precisionRecallAt(probabilities: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): { precision: number; recall: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const flagged = probabilities[i] >= threshold;
    if (flagged && labels[i]) tp++;
    else if (flagged) fp++;
    else if (labels[i]) fn++;
  }
  return { precision: tp + fp > 0 ? tp / (tp + fp) : 1, recall: tp + fn > 0 ? tp / (tp + fn) : 0 };
}

/** Each operating point's threshold with the precision and recall it has on labelled pairs. */
export type PointsMeasured = Record<OperatingPointName, { threshold: number; precision: number; recall: number }>;

export function measurePoints(points: OperatingPoints, probabilities: ArrayLike<number>, labels: ArrayLike<number>): PointsMeasured {
  return Object.fromEntries(OPERATING_POINTS.map((name) => [name, { threshold: points[name].threshold, ...precisionRecallAt(probabilities, labels, points[name].threshold) }])) as PointsMeasured;
}
