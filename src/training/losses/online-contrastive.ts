import * as tf from '@tensorflow/tfjs-core';
import type { Loss } from './loss.js';

/**
 * Online contrastive loss (as in sentence-transformers' OnlineContrastiveLoss): the contrastive
 * loss on the hard pairs of the batch only, i.e. positives farther apart than the closest
 * negative and negatives closer than the farthest positive:
 *   L = sum_{hard pos} E^2 + sum_{hard neg} max(margin - E, 0)^2   (divided by the batch size)
 */
export function onlineContrastive(margin: number): Loss {
  return ({ a, b, labelValues }, energy) => {
    const e = energy.pair(a, b);
    const values = e.dataSync();
    let minNeg = Infinity;
    let maxPos = -Infinity;
    labelValues.forEach((y, i) => {
      if (y === 1) maxPos = Math.max(maxPos, values[i]);
      else minNeg = Math.min(minNeg, values[i]);
    });
    const hardPos = Float32Array.from(labelValues, (y, i) => (y === 1 && values[i] > minNeg ? 1 : 0));
    const hardNeg = Float32Array.from(labelValues, (y, i) => (y === 0 && values[i] < maxPos ? 1 : 0));
    const pull = tf.mul(tf.tensor1d(hardPos), tf.square(e));
    const push = tf.mul(tf.tensor1d(hardNeg), tf.square(tf.relu(tf.sub(margin, e))));
    return tf.div(tf.sum(tf.add(pull, push)), labelValues.length);
  };
}
