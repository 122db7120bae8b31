import * as tf from '@tensorflow/tfjs-core';
import type { Energy } from './energy.js';

// E = ||a - b||_2, the seed's energy (Chopra, Hadsell & LeCun 2005). The epsilon keeps the
// gradient of sqrt finite for identical inputs.
const EPS = 1e-9;

export const euclidean: Energy = {
  pair: (a, b) => tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(a, b)), 1), EPS)),
  matrix: (a, b) => {
    const aa = tf.sum(tf.square(a), 1, true);
    const bb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]);
    const d2 = tf.sub(tf.add(aa, bb), tf.mul(2, tf.matMul(a, b, false, true)));
    return tf.sqrt(tf.add(tf.relu(d2), EPS));
  },
  vectors: (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      s += d * d;
    }
    return Math.sqrt(s);
  },
};
