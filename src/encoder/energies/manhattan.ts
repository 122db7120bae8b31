import * as tf from '@tensorflow/tfjs-core';
import type { Energy } from './energy.js';

// E = ||a - b||_1, the energy of MaLSTM (Mueller & Thyagarajan, AAAI 2016), whose similarity is exp(-E).
export const manhattan: Energy = {
  pair: (a, b) => tf.sum(tf.abs(tf.sub(a, b)), 1),
  matrix: (a, b) => tf.sum(tf.abs(tf.sub(tf.expandDims(a, 1), tf.expandDims(b, 0))), 2),
  vectors: (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
    return s;
  },
};
