/**
 * Binary metrics for energies: a pair is called a duplicate when its energy is at most the
 * threshold. Labels: 1 = duplicate.
 */
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
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: (tp + tn) / Math.max(1, energies.length), precision, recall, f1 };
}

/** Indices sorted by ascending energy (most duplicate-like first). */
function byEnergy(energies: ArrayLike<number>): number[] {
  return [...Array(energies.length).keys()].sort((x, y) => energies[x] - energies[y]);
}

/** ROC AUC by the rank statistic (Mann-Whitney U), ties counted half. */
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

/** Average precision of ranking pairs by ascending energy. */
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

export function binaryMetrics(energies: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): BinaryMetrics {
  return {
    pairs: energies.length,
    ...classify(energies, labels, threshold),
    rocAuc: rocAuc(energies, labels),
    averagePrecision: averagePrecision(energies, labels),
    threshold,
  };
}
