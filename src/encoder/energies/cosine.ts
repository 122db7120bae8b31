import * as tf from '@tensorflow/tfjs-core';
import type { Energy } from './energy.js';

// E = 1 - cos(a, b), in [0, 2].
const EPS = 1e-8;
const unit = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), EPS));

export const cosine: Energy = {
  pair: (a, b) => tf.sub(1, tf.sum(tf.mul(unit(a), unit(b)), 1)),
  matrix: (a, b) => tf.sub(1, tf.matMul(unit(a), unit(b), false, true)),
  vectors: (a, b) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return 1 - dot / (Math.sqrt(na * nb) + EPS);
  },
};
