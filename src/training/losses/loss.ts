import type * as tf from '@tensorflow/tfjs-core';
import type { Energy } from '../../encoder/energies/registry.js';

/** A training objective over a batch of pairs: tower outputs a, b [B, D] and labels y [B] (1 = duplicate). */
export interface PairBatch {
  a: tf.Tensor2D;
  b: tf.Tensor2D;
  labels: tf.Tensor1D;
  /** The same labels on the host, for losses that select pairs. */
  labelValues: Float32Array;
}

export type Loss = (batch: PairBatch, energy: Energy) => tf.Scalar;
