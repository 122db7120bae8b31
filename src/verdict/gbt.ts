/**
 * Gradient-boosted decision trees for a binary label, in the manner of LightGBM and scikit-learn's
 * HistGradientBoostingClassifier: features are cut into quantile bins once, each tree is grown
 * best-first (always splitting the leaf with the largest gain) on histograms of the log-loss
 * gradient g = p - y and hessian h = p (1 - p), with the Newton step -G / (H + l2) as a node's
 * value and gain = G_L^2/(H_L+l2) + G_R^2/(H_R+l2) - G^2/(H+l2) (Friedman 2001; Ke et al. 2017).
 * Every node keeps its value, so a prediction splits into per-feature contributions along its
 * path (Saabas' method): what explains a verdict.
 */
export interface GbtParams {
  /** Most trees; early stopping on the validation log-loss may keep fewer. */
  iterations: number;
  learningRate: number;
  maxLeaves: number;
  /** Fewest rows in a leaf. */
  minLeaf: number;
  l2: number;
  maxBins: number;
  /** Trees without a better validation log-loss before stopping. */
  patience: number;
}

export const GBT_DEFAULTS: GbtParams = { iterations: 500, learningRate: 0.05, maxLeaves: 31, minLeaf: 20, l2: 1, maxBins: 64, patience: 40 };

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

interface Split {
  gain: number;
  feature: number;
  bin: number;
}

interface Histogram {
  g: Float64Array;
  h: Float64Array;
  c: Uint32Array;
}

interface Leaf {
  node: number;
  rows: Uint32Array;
  G: number;
  H: number;
  hist: Histogram;
  split?: Split;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Up to maxBins - 1 cut points per feature, at quantiles of its distinct values. */
function binEdges(column: Float64Array, maxBins: number): Float64Array {
  const sorted = Float64Array.from(column).sort();
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
  if (distinct.length <= maxBins) return Float64Array.from(distinct.slice(0, -1));
  const edges: number[] = [];
  for (let b = 1; b < maxBins; b++) {
    const v = sorted[Math.floor((b * sorted.length) / maxBins)];
    if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
  }
  return Float64Array.from(edges);
}

/** The bin of x: the first edge it does not exceed, or the last bin. */
function binOf(edges: Float64Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
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

  static fit(rows: readonly ArrayLike<number>[], labels: ArrayLike<number>, params: Partial<GbtParams> = {}, valid?: { rows: readonly ArrayLike<number>[]; labels: ArrayLike<number> }): Gbt {
    const p = { ...GBT_DEFAULTS, ...params };
    const n = rows.length;
    const F = n > 0 ? rows[0].length : 0;
    const edges: Float64Array[] = [];
    const bins: Uint16Array[] = [];
    for (let f = 0; f < F; f++) {
      const column = Float64Array.from(rows, (r) => r[f]);
      const e = binEdges(column, p.maxBins);
      edges.push(e);
      bins.push(Uint16Array.from(column, (x) => binOf(e, x)));
    }
    let positives = 0;
    for (let i = 0; i < n; i++) positives += labels[i];
    const base = Math.log((positives + 1) / (n - positives + 1));
    const score = new Float64Array(n).fill(base);
    const grad = new Float64Array(n);
    const hess = new Float64Array(n);
    const model = new Gbt({ base, trees: [] });
    const validScore = valid ? new Float64Array(valid.rows.length).fill(base) : undefined;
    let best = { loss: Infinity, trees: 0 };

    // Histograms of (g, h, count) per feature and bin, laid out [f * B + bin].
    const B = Math.max(1, ...edges.map((e) => e.length + 1));
    const histogram = (rowsOf: Uint32Array): Histogram => {
      const hist = { g: new Float64Array(F * B), h: new Float64Array(F * B), c: new Uint32Array(F * B) };
      for (let f = 0; f < F; f++) {
        const column = bins[f];
        const offset = f * B;
        for (let k = 0; k < rowsOf.length; k++) {
          const i = rowsOf[k];
          const at = offset + column[i];
          hist.g[at] += grad[i];
          hist.h[at] += hess[i];
          hist.c[at]++;
        }
      }
      return hist;
    };
    // The larger child's histogram is its parent's minus the smaller child's (LightGBM's trick).
    const subtract = (parent: Histogram, child: Histogram): Histogram => ({
      g: parent.g.map((x, i) => x - child.g[i]),
      h: parent.h.map((x, i) => x - child.h[i]),
      c: parent.c.map((x, i) => x - child.c[i]),
    });
    const findSplit = (leaf: Leaf): Split | undefined => {
      let bestSplit: Split | undefined;
      const parent = (leaf.G * leaf.G) / (leaf.H + p.l2);
      const { g, h, c } = leaf.hist;
      for (let f = 0; f < F; f++) {
        const nb = edges[f].length + 1;
        let GL = 0;
        let HL = 0;
        let CL = 0;
        for (let b = 0; b < nb - 1; b++) {
          GL += g[f * B + b];
          HL += h[f * B + b];
          CL += c[f * B + b];
          const CR = leaf.rows.length - CL;
          if (CL < p.minLeaf) continue;
          if (CR < p.minLeaf) break;
          const GR = leaf.G - GL;
          const HR = leaf.H - HL;
          const gain = (GL * GL) / (HL + p.l2) + (GR * GR) / (HR + p.l2) - parent;
          if (gain > 1e-9 && (!bestSplit || gain > bestSplit.gain)) bestSplit = { gain, feature: f, bin: b };
        }
      }
      return bestSplit;
    };

    for (let iter = 0; iter < p.iterations; iter++) {
      let G = 0;
      let H = 0;
      for (let i = 0; i < n; i++) {
        const q = sigmoid(score[i]);
        grad[i] = q - labels[i];
        hess[i] = Math.max(q * (1 - q), 1e-12);
        G += grad[i];
        H += hess[i];
      }
      const tree: TreeJson = { feature: [], threshold: [], left: [], right: [], value: [] };
      const addNode = (g: number, h: number) => {
        tree.feature.push(-1);
        tree.threshold.push(0);
        tree.left.push(-1);
        tree.right.push(-1);
        tree.value.push((-g / (h + p.l2)) * p.learningRate);
        return tree.value.length - 1;
      };
      const all = Uint32Array.from({ length: n }, (_, i) => i);
      const root: Leaf = { node: addNode(G, H), rows: all, G, H, hist: histogram(all) };
      root.split = findSplit(root);
      const leaves: Leaf[] = [root];
      while (leaves.length < p.maxLeaves) {
        let pick = -1;
        for (let l = 0; l < leaves.length; l++) if (leaves[l].split && (pick < 0 || leaves[l].split!.gain > leaves[pick].split!.gain)) pick = l;
        if (pick < 0) break;
        const leaf = leaves[pick];
        const { feature, bin } = leaf.split!;
        const column = bins[feature];
        const left: number[] = [];
        const right: number[] = [];
        let GL = 0;
        let HL = 0;
        for (let k = 0; k < leaf.rows.length; k++) {
          const i = leaf.rows[k];
          if (column[i] <= bin) {
            left.push(i);
            GL += grad[i];
            HL += hess[i];
          } else right.push(i);
        }
        const leftRows = Uint32Array.from(left);
        const rightRows = Uint32Array.from(right);
        const smallHist = histogram(left.length <= right.length ? leftRows : rightRows);
        const largeHist = subtract(leaf.hist, smallHist);
        const [lh, rh] = left.length <= right.length ? [smallHist, largeHist] : [largeHist, smallHist];
        const l: Leaf = { node: addNode(GL, HL), rows: leftRows, G: GL, H: HL, hist: lh };
        const r: Leaf = { node: addNode(leaf.G - GL, leaf.H - HL), rows: rightRows, G: leaf.G - GL, H: leaf.H - HL, hist: rh };
        tree.feature[leaf.node] = feature;
        tree.threshold[leaf.node] = edges[feature][bin];
        tree.left[leaf.node] = l.node;
        tree.right[leaf.node] = r.node;
        l.split = findSplit(l);
        r.split = findSplit(r);
        leaves.splice(pick, 1, l, r);
      }
      for (const leaf of leaves) for (const i of leaf.rows) score[i] += tree.value[leaf.node];
      model.json.trees.push(tree);
      if (valid && validScore) {
        const one = new Gbt({ base: 0, trees: [tree] });
        let loss = 0;
        for (let i = 0; i < valid.rows.length; i++) {
          validScore[i] += one.logit(valid.rows[i]);
          const q = Math.min(Math.max(sigmoid(validScore[i]), 1e-12), 1 - 1e-12);
          loss -= valid.labels[i] ? Math.log(q) : Math.log(1 - q);
        }
        if (loss < best.loss) best = { loss, trees: model.json.trees.length };
        else if (model.json.trees.length - best.trees >= p.patience) break;
      }
    }
    if (valid) model.json.trees.length = best.trees;
    return model;
  }
}
