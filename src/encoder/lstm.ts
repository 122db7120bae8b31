import * as tf from '@tensorflow/tfjs-core';

/** One direction of one LSTM layer. Gate order i, f, c, o (as Keras and tfjs keep it). */
export interface LstmWeights {
  /** Input kernel [inputDim, 4H]. */
  kernel: tf.Tensor2D;
  /** Recurrent kernel [H, 4H]. */
  recurrent: tf.Tensor2D;
  /** Bias [4H]. */
  bias: tf.Tensor1D;
}

export interface LstmOutput {
  /** h_t for every step, time-major [T, N, H]. */
  sequence: tf.Tensor3D;
  /** The state after the last real token of each row [N, H]. */
  last: tf.Tensor2D;
}

/**
 * Runs an LSTM over time-major input x [T, N, D]. `stepMasks[t]` is [N, 1] with 1 on real tokens;
 * on padding the state is carried unchanged, so `last` is the state at each row's true end, in
 * both directions, and a reversed run starts from the zero state at the row's last real token.
 * The input projection of all steps is one matMul; only the recurrent product runs per step.
 */
export function lstm(x: tf.Tensor3D, stepMasks: tf.Tensor2D[], w: LstmWeights, reverse: boolean): LstmOutput {
  const [T, N, D] = x.shape;
  const H = w.recurrent.shape[0];
  // The bias rides in the matMul as a row of the kernel against a column of ones: a broadcast
  // add would make its gradient a column reduction, which wasm runs far slower than a matMul.
  const inputs = tf.concat([tf.reshape(x, [T * N, D]), tf.ones([T * N, 1])], 1);
  const kernel = tf.concat([w.kernel, tf.reshape(w.bias, [1, 4 * H])], 0);
  // Unstacked once: slicing one step at a time would make each step's gradient a full-size pad.
  const projected = tf.unstack(tf.reshape(tf.matMul(inputs, kernel), [T, N, 4 * H])) as tf.Tensor2D[];
  let h = tf.zeros([N, H]) as tf.Tensor2D;
  let c = tf.zeros([N, H]) as tf.Tensor2D;
  const outputs: tf.Tensor2D[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const z = tf.add(projected[t], tf.matMul(h, w.recurrent));
    const [zi, zf, zc, zo] = tf.split(z, 4, 1) as tf.Tensor2D[];
    const cNew = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zc)));
    const hNew = tf.mul(tf.sigmoid(zo), tf.tanh(cNew));
    const m = stepMasks[t];
    c = tf.add(c, tf.mul(m, tf.sub(cNew, c)));
    h = tf.add(h, tf.mul(m, tf.sub(hNew, h)));
    outputs[t] = h;
  }
  return { sequence: tf.stack(outputs) as tf.Tensor3D, last: h };
}
