import * as tf from '@tensorflow/tfjs-core';
import type { Loss } from './loss.js';

/**
 * Contrastive loss (Hadsell, Chopra & LeCun, CVPR 2006), the seed's objective:
 *   L = Y * E^2 + (1 - Y) * max(margin - E, 0)^2, averaged over the batch.
 * Genuine pairs are pulled together; impostors are pushed apart until the margin.
 */
export function contrastive(margin: number): Loss {
  return ({ a, b, labels }, energy) => {
    const e = energy.pair(a, b);
    const pull = tf.mul(labels, tf.square(e));
    const push = tf.mul(tf.sub(1, labels), tf.square(tf.relu(tf.sub(margin, e))));
    return tf.mean(tf.add(pull, push));
  };
}
