/**
 * Paraphrase-mining evaluator (as sentence-transformers' ParaphraseMiningEvaluator): how well the
 * duplicate groups and the candidate links mined from a collection agree with labelled pairs.
 */
import type { Pair } from '../data/pairs.js';
import { averagePrecision, precisionRecallF1 } from './binary-classification.js';

export interface MiningMetrics {
  /** Labelled pairs whose two questions are both in the mined collection. */
  pairs: number;
  precision: number;
  recall: number;
  f1: number;
  miningAveragePrecision: number;
}

/** What mining a collection gave: its distinct items, their groups and the links it examined. */
export interface Mined {
  /** The item a question text is (exact duplicates are one item); undefined when it is not in the collection. */
  itemOf(text: string): number | undefined;
  /** The group of an item, or -1 when it is in none. */
  groupOf(item: number): number;
  /** Every candidate link between two distinct items, with its energy (lower = more alike). */
  candidates: readonly { a: number; b: number; energy: number }[];
}

/**
 * Pairwise precision, recall and F1 of "in the same group" (or the same item) against the
 * labelled pairs whose questions were both mined: precision = TP / (TP + FP), recall =
 * TP / (TP + FN), F1 their harmonic mean. And the average precision of ranking the candidate
 * links by energy against the labelled duplicates between distinct items, normalised by all of
 * them, so that a duplicate never mined counts as a miss: AP = (1 / |gold|) sum over the gold
 * links found of precision@rank.
 */
export function paraphraseMining(pairs: readonly Pair[], mined: Mined): MiningMetrics {
  const key = (a: number, b: number) => `${Math.min(a, b)}:${Math.max(a, b)}`;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let used = 0;
  const gold = new Set<string>();
  for (const p of pairs) {
    const a = mined.itemOf(p.q1);
    const b = mined.itemOf(p.q2);
    if (a === undefined || b === undefined) continue;
    used++;
    const same = a === b || (mined.groupOf(a) >= 0 && mined.groupOf(a) === mined.groupOf(b));
    if (p.label === 1) {
      if (a !== b) gold.add(key(a, b)); // exact duplicates are not mined
      same ? tp++ : fn++;
    } else if (same) fp++;
  }
  const energies = mined.candidates.map((c) => c.energy);
  const labels = mined.candidates.map((c) => (gold.has(key(c.a, c.b)) ? 1 : 0));
  const found = labels.reduce((s: number, y) => s + y, 0);
  const miningAveragePrecision = gold.size === 0 ? 0 : (averagePrecision(energies, labels) * found) / gold.size;
  return { pairs: used, ...precisionRecallF1(tp, fp, fn), miningAveragePrecision };
}
