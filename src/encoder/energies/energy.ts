import type * as tf from '@tensorflow/tfjs-core';

/**
 * An energy compares two tower outputs: low for duplicates, high for unrelated questions.
 * `pair` scores row i of a against row i of b; `matrix` scores every row of a against every
 * row of b (for in-batch negatives); `vectors` is the same score on plain arrays (for the index).
 */
export interface Energy {
  pair(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor;
  matrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor;
  vectors(a: ArrayLike<number>, b: ArrayLike<number>): number;
}
