import * as tf from '@tensorflow/tfjs-core';
import type { Loss } from './loss.js';

/**
 * Multiple negatives ranking loss (Henderson et al. 2017, "Efficient Natural Language Response
 * Suggestion"; sentence-transformers' MultipleNegativesRankingLoss). For each duplicate pair
 * (a_i, b_i), every other b_j in the batch is a negative:
 *   L = -mean_i log softmax_j(-scale * E(a_i, b_j))[i]
 * Symmetric: the same is applied with a and b swapped. Trains for retrieval, where the task is
 * to rank the one duplicate above everything else.
 */
export function multipleNegativesRanking(scale: number): Loss {
  return ({ a, b, labelValues }, energy) => {
    const positives = [...labelValues.keys()].filter((i) => labelValues[i] === 1);
    if (positives.length === 0) return tf.scalar(0);
    const rows = tf.tensor1d(positives, 'int32');
    const logits = tf.mul(-scale, energy.matrix(tf.gather(a, rows), b)); // [P, B]
    const logitsT = tf.mul(-scale, energy.matrix(tf.gather(b, rows), a));
    const targets = tf.oneHot(rows, labelValues.length);
    const ce = (l: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(l)), 1)));
    return tf.div(tf.add(ce(logits), ce(logitsT)), 2);
  };
}
