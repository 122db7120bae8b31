/** Platt scaling (Platt 1999): the two parameters of P(duplicate | E) = 1 / (1 + exp(a * E + b)). */
export interface Platt {
  a: number;
  b: number;
}

/** An energy turned into a probability of being a duplicate: 1 / (1 + exp(a * E + b)). */
export function plattProbability({ a, b }: Platt, energy: number): number {
  return 1 / (1 + Math.exp(a * energy + b));
}

/**
 * Fits a and b by Newton's method on the log-loss, with Platt's smoothed targets
 * (n+ + 1) / (n+ + 2) for duplicates and 1 / (n- + 2) for the others.
 */
export function fitPlatt(energies: ArrayLike<number>, labels: ArrayLike<number>): Platt {
  const n = energies.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (n - positives + 2);
  let a = 0;
  let b = Math.log((n - positives + 1) / (positives + 1));
  for (let iter = 0; iter < 100; iter++) {
    let g1 = 0;
    let g2 = 0;
    let h11 = 1e-12;
    let h22 = 1e-12;
    let h21 = 0;
    for (let i = 0; i < n; i++) {
      const t = labels[i] === 1 ? hi : lo;
      const p = 1 / (1 + Math.exp(a * energies[i] + b));
      // d(logloss)/d(a*E+b) = t - p for this parameterisation.
      const d = t - p;
      const w = p * (1 - p);
      g1 += energies[i] * d;
      g2 += d;
      h11 += energies[i] * energies[i] * w;
      h22 += w;
      h21 += energies[i] * w;
    }
    const det = h11 * h22 - h21 * h21;
    if (Math.abs(det) < 1e-18) break;
    const da = (h22 * g1 - h21 * g2) / det;
    const db = (h11 * g2 - h21 * g1) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}
