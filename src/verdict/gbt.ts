/**
 * Gradient-boosted decision trees for a binary label (fit by training/fit-gbt.ts), in the manner of LightGBM and scikit-learn's
 * HistGradientBoostingClassifier: features are cut into quantile bins once, each tree is grown
 * best-first (always splitting the leaf with the largest gain) on histograms of the log-loss
 * gradient g = p - y and hessian h = p (1 - p), with the Newton step -G / (H + l2) as a node's
 * value and gain = G_L^2/(H_L+l2) + G_R^2/(H_R+l2) - G^2/(H+l2) (Friedman 2001; Ke et al. 2017).
 * Every node keeps its value, so a prediction splits into per-feature contributions along its
 * path (Saabas' method): what explains a verdict.
 */

/** One tree as parallel arrays; a leaf has feature -1. `x <= threshold` goes left. */
export interface TreeJson {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

export interface GbtJson {
  base: number;
  trees: TreeJson[];
}

export class Gbt {
  constructor(readonly json: GbtJson) {}

  get trees(): number {
    return this.json.trees.length;
  }

  logit(x: ArrayLike<number>): number {
    let z = this.json.base;
    for (const t of this.json.trees) {
      let n = 0;
      while (t.feature[n] >= 0) n = x[t.feature[n]] <= t.threshold[n] ? t.left[n] : t.right[n];
      z += t.value[n];
    }
    return z;
  }

  /** Per-feature contributions to the logit (length F), and the bias; they sum to logit(x). */
  contributions(x: ArrayLike<number>, features: number): { bias: number; values: Float64Array } {
    const values = new Float64Array(features);
    let bias = this.json.base;
    for (const t of this.json.trees) {
      let n = 0;
      bias += t.value[0];
      while (t.feature[n] >= 0) {
        const next = x[t.feature[n]] <= t.threshold[n] ? t.left[n] : t.right[n];
        values[t.feature[n]] += t.value[next] - t.value[n];
        n = next;
      }
    }
    return { bias, values };
  }
}
