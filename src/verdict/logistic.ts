/**
 * L2-regularised logistic regression on standardised inputs, fit by Newton's method (IRLS): the
 * calibrated last step of the verdict. Standardising makes the penalty treat every input alike
 * and makes w_i * z_i the contribution of input i against an average pair. Optional row weights
 * scale each row's share of the log-likelihood and of the standardisation: a row of weight 2
 * counts exactly as the row twice.
 */
export interface LogisticJson {
  names: string[];
  mean: number[];
  scale: number[];
  weights: number[];
  bias: number;
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with pivoting. */
function solve(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.map((row, i) => Float64Array.from([...row, b[i]]));
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[pivot][c])) pivot = r;
    [M[c], M[pivot]] = [M[pivot], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

export class Logistic {
  constructor(readonly json: LogisticJson) {}

  /** Each input's contribution w_i * (x_i - mean_i) / scale_i to the logit, and the bias. */
  contributions(x: ArrayLike<number>): { bias: number; values: Float64Array } {
    const { mean, scale, weights, bias } = this.json;
    return { bias, values: Float64Array.from(weights, (w, i) => (w * (x[i] - mean[i])) / scale[i]) };
  }

  logit(x: ArrayLike<number>): number {
    const { bias, values } = this.contributions(x);
    let z = bias;
    for (const v of values) z += v;
    return z;
  }

  static fit(names: string[], rows: readonly ArrayLike<number>[], labels: ArrayLike<number>, options: { l2?: number; iterations?: number; weights?: ArrayLike<number> } = {}): Logistic {
    const l2 = options.l2 ?? 1;
    const n = rows.length;
    const d = names.length;
    const weight = (i: number) => options.weights?.[i] ?? 1;
    let total = 0;
    for (let i = 0; i < n; i++) total += weight(i);
    const mean = new Array<number>(d).fill(0);
    const scale = new Array<number>(d).fill(0);
    rows.forEach((r, i) => {
      for (let j = 0; j < d; j++) mean[j] += (weight(i) * r[j]) / total;
    });
    rows.forEach((r, i) => {
      for (let j = 0; j < d; j++) scale[j] += (weight(i) * (r[j] - mean[j]) ** 2) / total;
    });
    for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]) || 1;
    const Z = rows.map((r) => Float64Array.from({ length: d + 1 }, (_, j) => (j === d ? 1 : (r[j] - mean[j]) / scale[j])));
    let w = new Float64Array(d + 1);
    for (let iter = 0; iter < (options.iterations ?? 50); iter++) {
      const g = new Float64Array(d + 1);
      const H = Array.from({ length: d + 1 }, () => new Float64Array(d + 1));
      for (let i = 0; i < n; i++) {
        let z = 0;
        for (let j = 0; j <= d; j++) z += w[j] * Z[i][j];
        const q = 1 / (1 + Math.exp(-z));
        const e = weight(i) * (q - labels[i]);
        const s = weight(i) * q * (1 - q);
        for (let j = 0; j <= d; j++) {
          g[j] += e * Z[i][j];
          for (let k = 0; k <= j; k++) H[j][k] += s * Z[i][j] * Z[i][k];
        }
      }
      for (let j = 0; j <= d; j++) for (let k = 0; k < j; k++) H[k][j] = H[j][k];
      // The bias (last) is not penalised.
      for (let j = 0; j < d; j++) {
        g[j] += l2 * w[j];
        H[j][j] += l2;
      }
      H[d][d] += 1e-9;
      const step = solve(H, g);
      w = w.map((x, j) => x - step[j]);
      if (Math.max(...step.map(Math.abs)) < 1e-8) break;
    }
    return new Logistic({ names, mean, scale, weights: Array.from(w.subarray(0, d)), bias: w[d] });
  }
}
