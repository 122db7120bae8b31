/** Candidate thresholds: midpoints between consecutive distinct sorted energies. */
function sweep(energies: ArrayLike<number>, labels: ArrayLike<number>, visit: (threshold: number, tp: number, fp: number) => void) {
  const order = [...Array(energies.length).keys()].sort((x, y) => energies[x] - energies[y]);
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    labels[order[k]] === 1 ? tp++ : fp++;
    const here = energies[order[k]];
    const next = k + 1 < order.length ? energies[order[k + 1]] : here + 1e-6;
    if (next !== here) visit((here + next) / 2, tp, fp);
  }
}

/** The energy threshold that maximises accuracy (energy <= threshold means duplicate). */
export function maxAccuracyThreshold(energies: ArrayLike<number>, labels: ArrayLike<number>): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  let best = { correct: negatives, threshold: -Infinity };
  sweep(energies, labels, (threshold, tp, fp) => {
    const correct = tp + (negatives - fp);
    if (correct > best.correct) best = { correct, threshold };
  });
  return Number.isFinite(best.threshold) ? best.threshold : Math.min(...Array.from(energies)) - 1e-6;
}

/** The largest threshold whose precision still reaches `target` (maximum recall at that precision). */
export function precisionThreshold(energies: ArrayLike<number>, labels: ArrayLike<number>, target: number): number {
  let chosen = -Infinity;
  sweep(energies, labels, (threshold, tp, fp) => {
    if (tp / (tp + fp) >= target) chosen = threshold;
  });
  if (!Number.isFinite(chosen)) throw new Error(`no threshold reaches precision ${target} on the validation pairs`);
  return chosen;
}
