import { OPERATING_TARGETS, type OperatingPoint, type OperatingPoints } from '../verdict/operating-points.js';

/**
 * The operating points of a verdict from its probabilities on validation pairs (weighted as the
 * stack was fit): every distinct probability is a candidate threshold t (duplicate when p >= t).
 * `precise`: the lowest t whose precision reaches the target (the most recall at that
 * precision; the most precise t when none does); `balanced`: the t of best F1; `recall`: the
 * highest t whose recall reaches the target.
 */
export function chooseOperatingPoints(probabilities: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): OperatingPoints {
  const order = Array.from({ length: probabilities.length }, (_, i) => i).sort((x, y) => probabilities[y] - probabilities[x]);
  const w = (i: number) => (weights ? weights[i] : 1);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] * w(i);
  const candidates: OperatingPoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i]) tp += w(i);
    else fp += w(i);
    // A threshold sits at the last of a run of equal probabilities.
    if (k + 1 < order.length && probabilities[order[k + 1]] === probabilities[i]) continue;
    candidates.push({ threshold: probabilities[i], precision: tp / (tp + fp), recall: positives > 0 ? tp / positives : 0 });
  }
  if (candidates.length === 0) {
    const none = { threshold: 0.5, precision: null, recall: null };
    return { precise: none, balanced: none, recall: none };
  }
  const f1 = (c: OperatingPoint) => (c.precision! + c.recall! > 0 ? (2 * c.precision! * c.recall!) / (c.precision! + c.recall!) : 0);
  const reachPrecision = candidates.filter((c) => c.precision! >= OPERATING_TARGETS.precision);
  const precise = reachPrecision.length > 0 ? reachPrecision[reachPrecision.length - 1] : candidates.reduce((a, b) => (b.precision! > a.precision! ? b : a));
  const balanced = candidates.reduce((a, b) => (f1(b) > f1(a) ? b : a));
  const recall = candidates.find((c) => c.recall! >= OPERATING_TARGETS.recall) ?? candidates[candidates.length - 1];
  return { precise, balanced, recall };
}
