/**
 * Fitting the verdict's gradient-boosted trees (the model and its formulas: verdict/gbt.ts).
 * Features are cut into quantile bins once; each tree is grown best-first on histograms of the
 * log-loss gradient and hessian; early stopping watches the validation log-loss.
 */
import { Gbt, type GbtJson, type TreeJson } from '../verdict/gbt.js';

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

interface Split {
  gain: number;
  feature: number;
  bin: number;
}

/** Sums of (g, h, count) per feature and bin, laid out [f * B + bin]. */
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

/**
 * The training rows binned once, with the gradient and hessian of the current round: what
 * growing a tree reads.
 */
class Binned {
  readonly features: number;
  readonly edges: Float64Array[] = [];
  readonly bins: Uint16Array[] = [];
  /** Bins per feature in a histogram (the widest feature's). */
  readonly width: number;
  readonly grad: Float64Array;
  readonly hess: Float64Array;

  constructor(rows: readonly ArrayLike<number>[], maxBins: number) {
    this.features = rows.length > 0 ? rows[0].length : 0;
    for (let f = 0; f < this.features; f++) {
      const column = Float64Array.from(rows, (r) => r[f]);
      const e = binEdges(column, maxBins);
      this.edges.push(e);
      this.bins.push(Uint16Array.from(column, (x) => binOf(e, x)));
    }
    this.width = Math.max(1, ...this.edges.map((e) => e.length + 1));
    this.grad = new Float64Array(rows.length);
    this.hess = new Float64Array(rows.length);
  }

  /** The log-loss gradient g = p - y and hessian h = p (1 - p) at the current scores; their sums. */
  gradients(score: Float64Array, labels: ArrayLike<number>): { G: number; H: number } {
    let G = 0;
    let H = 0;
    for (let i = 0; i < score.length; i++) {
      const q = sigmoid(score[i]);
      this.grad[i] = q - labels[i];
      this.hess[i] = Math.max(q * (1 - q), 1e-12);
      G += this.grad[i];
      H += this.hess[i];
    }
    return { G, H };
  }

  histogram(rows: Uint32Array): Histogram {
    const size = this.features * this.width;
    const hist = { g: new Float64Array(size), h: new Float64Array(size), c: new Uint32Array(size) };
    for (let f = 0; f < this.features; f++) {
      const column = this.bins[f];
      const offset = f * this.width;
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k];
        const at = offset + column[i];
        hist.g[at] += this.grad[i];
        hist.h[at] += this.hess[i];
        hist.c[at]++;
      }
    }
    return hist;
  }
}

/** The larger child's histogram is its parent's minus the smaller child's (LightGBM's trick). */
const subtract = (parent: Histogram, child: Histogram): Histogram => ({
  g: parent.g.map((x, i) => x - child.g[i]),
  h: parent.h.map((x, i) => x - child.h[i]),
  c: parent.c.map((x, i) => x - child.c[i]),
});

/** The split of largest gain G_L^2/(H_L+l2) + G_R^2/(H_R+l2) - G^2/(H+l2) with minLeaf rows each side. */
function findSplit(leaf: Leaf, data: Binned, p: GbtParams): Split | undefined {
  let best: Split | undefined;
  const parent = (leaf.G * leaf.G) / (leaf.H + p.l2);
  const { g, h, c } = leaf.hist;
  for (let f = 0; f < data.features; f++) {
    const nb = data.edges[f].length + 1;
    const offset = f * data.width;
    let GL = 0;
    let HL = 0;
    let CL = 0;
    for (let b = 0; b < nb - 1; b++) {
      GL += g[offset + b];
      HL += h[offset + b];
      CL += c[offset + b];
      const CR = leaf.rows.length - CL;
      if (CL < p.minLeaf) continue;
      if (CR < p.minLeaf) break;
      const GR = leaf.G - GL;
      const HR = leaf.H - HL;
      const gain = (GL * GL) / (HL + p.l2) + (GR * GR) / (HR + p.l2) - parent;
      if (gain > 1e-9 && (!best || gain > best.gain)) best = { gain, feature: f, bin: b };
    }
  }
  return best;
}

/** A tree under construction: nodes are added as leaves (the Newton step as value) and turned into splits. */
class TreeBuilder {
  readonly tree: TreeJson = { feature: [], threshold: [], left: [], right: [], value: [] };

  constructor(private readonly p: GbtParams) {}

  leaf(G: number, H: number): number {
    const t = this.tree;
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push((-G / (H + this.p.l2)) * this.p.learningRate);
    return t.value.length - 1;
  }

  split(node: number, feature: number, threshold: number, left: number, right: number): void {
    this.tree.feature[node] = feature;
    this.tree.threshold[node] = threshold;
    this.tree.left[node] = left;
    this.tree.right[node] = right;
  }
}

/** Splits a leaf's rows by its chosen split into two child leaves, each with its own best split. */
function splitLeaf(leaf: Leaf, data: Binned, builder: TreeBuilder, p: GbtParams): [Leaf, Leaf] {
  const { feature, bin } = leaf.split!;
  const column = data.bins[feature];
  const left: number[] = [];
  const right: number[] = [];
  let GL = 0;
  let HL = 0;
  for (let k = 0; k < leaf.rows.length; k++) {
    const i = leaf.rows[k];
    if (column[i] <= bin) {
      left.push(i);
      GL += data.grad[i];
      HL += data.hess[i];
    } else right.push(i);
  }
  const [leftRows, rightRows] = [Uint32Array.from(left), Uint32Array.from(right)];
  const leftSmaller = left.length <= right.length;
  const small = data.histogram(leftSmaller ? leftRows : rightRows);
  const large = subtract(leaf.hist, small);
  const l: Leaf = { node: builder.leaf(GL, HL), rows: leftRows, G: GL, H: HL, hist: leftSmaller ? small : large };
  const r: Leaf = { node: builder.leaf(leaf.G - GL, leaf.H - HL), rows: rightRows, G: leaf.G - GL, H: leaf.H - HL, hist: leftSmaller ? large : small };
  builder.split(leaf.node, feature, data.edges[feature][bin], l.node, r.node);
  l.split = findSplit(l, data, p);
  r.split = findSplit(r, data, p);
  return [l, r];
}

/** One tree grown best-first (always splitting the leaf of largest gain) up to maxLeaves; its leaves' rows. */
function growTree(data: Binned, G: number, H: number, p: GbtParams): { tree: TreeJson; leaves: Leaf[] } {
  const builder = new TreeBuilder(p);
  const all = Uint32Array.from({ length: data.grad.length }, (_, i) => i);
  const root: Leaf = { node: builder.leaf(G, H), rows: all, G, H, hist: data.histogram(all) };
  root.split = findSplit(root, data, p);
  const leaves: Leaf[] = [root];
  while (leaves.length < p.maxLeaves) {
    let pick = -1;
    for (let l = 0; l < leaves.length; l++) if (leaves[l].split && (pick < 0 || leaves[l].split!.gain > leaves[pick].split!.gain)) pick = l;
    if (pick < 0) break;
    leaves.splice(pick, 1, ...splitLeaf(leaves[pick], data, builder, p));
  }
  return { tree: builder.tree, leaves };
}

/** Adds a tree to the validation scores and returns the validation log-loss after it. */
function validationLoss(tree: TreeJson, valid: { rows: readonly ArrayLike<number>[]; labels: ArrayLike<number> }, score: Float64Array): number {
  const one = new Gbt({ base: 0, trees: [tree] });
  let loss = 0;
  for (let i = 0; i < valid.rows.length; i++) {
    score[i] += one.logit(valid.rows[i]);
    const q = Math.min(Math.max(sigmoid(score[i]), 1e-12), 1 - 1e-12);
    loss -= valid.labels[i] ? Math.log(q) : Math.log(1 - q);
  }
  return loss;
}

/**
 * Boosts trees on (rows, labels) from the log-odds of the positive rate; with `valid`, keeps the
 * trees up to the lowest validation log-loss and stops `patience` trees after it.
 */
export function fitGbt(
  rows: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  params: Partial<GbtParams> = {},
  valid?: { rows: readonly ArrayLike<number>[]; labels: ArrayLike<number> },
): Gbt {
  const p = { ...GBT_DEFAULTS, ...params };
  const n = rows.length;
  const data = new Binned(rows, p.maxBins);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i];
  const base = Math.log((positives + 1) / (n - positives + 1));
  const json: GbtJson = { base, trees: [] };
  const score = new Float64Array(n).fill(base);
  const validScore = valid ? new Float64Array(valid.rows.length).fill(base) : undefined;
  let best = { loss: Infinity, trees: 0 };
  for (let iter = 0; iter < p.iterations; iter++) {
    const { G, H } = data.gradients(score, labels);
    const { tree, leaves } = growTree(data, G, H, p);
    for (const leaf of leaves) for (const i of leaf.rows) score[i] += tree.value[leaf.node];
    json.trees.push(tree);
    if (valid && validScore) {
      const loss = validationLoss(tree, valid, validScore);
      if (loss < best.loss) best = { loss, trees: json.trees.length };
      else if (json.trees.length - best.trees >= p.patience) break;
    }
  }
  if (valid) json.trees.length = best.trees;
  return new Gbt(json);
}
