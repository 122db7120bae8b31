import { questionKey } from '../text/question-key.js';
import { KeyedUnionFind } from '../util/union-find.js';
import { Random } from '../util/random.js';
import type { Pair } from './pairs.js';

/**
 * The question clusters of `pairs` (questions joined by any pair, as normalised by questionKey):
 * the indices of each cluster's pairs, clusters in order of first appearance.
 */
export function pairClusters(pairs: readonly Pair[]): number[][] {
  const uf = new KeyedUnionFind();
  for (const p of pairs) uf.union(questionKey(p.q1), questionKey(p.q2));
  const clusters = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const root = uf.find(questionKey(p.q1));
    const list = clusters.get(root);
    if (list) list.push(i);
    else clusters.set(root, [i]);
  });
  return [...clusters.values()];
}

/**
 * Splits pairs so that no question is on both sides: questions joined by any pair form a
 * cluster, and whole clusters go to validation until it holds about `fraction` of the pairs.
 * Splitting by pair instead would leak questions and inflate validation scores.
 */
export function splitByCluster(pairs: Pair[], fraction: number, seed: number): { train: Pair[]; valid: Pair[] } {
  const groups = new Random(seed).shuffle(pairClusters(pairs).map((cluster) => cluster.map((i) => pairs[i])));
  const target = Math.round(pairs.length * fraction);
  const train: Pair[] = [];
  const valid: Pair[] = [];
  for (const g of groups) {
    // Clusters larger than the remaining room stay in training, so one giant cluster cannot swallow validation.
    if (valid.length < target && valid.length + g.length <= target * 1.05) valid.push(...g);
    else train.push(...g);
  }
  return { train, valid };
}

export interface TrainingSplit {
  train: Pair[];
  valid: Pair[];
  test: Pair[];
}

/**
 * The three disjoint sets of question clusters a training run uses: the test clusters are split
 * off first (so they do not move when the validation share changes), then validation from the
 * rest. Fractions are of all pairs. No stage of a model is fit on the test pairs.
 */
export function splitForTraining(pairs: Pair[], options: { validFraction: number; testFraction: number; seed: number }): TrainingSplit {
  let rest = pairs;
  let test: Pair[] = [];
  if (options.testFraction > 0) ({ train: rest, valid: test } = splitByCluster(pairs, options.testFraction, options.seed + 1));
  const { train, valid } = splitByCluster(rest, Math.min(0.9, (options.validFraction * pairs.length) / rest.length), options.seed);
  return { train, valid, test };
}
