import * as tf from '@tensorflow/tfjs-core';

/**
 * Max over the time axis of x [T, N, D] -> [N, D], with the gradient routed to the arg-max step.
 * tfjs's generic reduction gradient compares x against the broadcast maximum element by element,
 * which on wasm cost more than the LSTM itself; the arg-max is known here, so the gradient is a
 * scatter.
 */
export const maxOverTime = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const [T, N, D] = x.shape;
  const values = x.dataSync();
  const out = new Float32Array(N * D);
  const arg = new Int32Array(N * D);
  const plane = N * D;
  out.set(values.subarray(0, plane));
  for (let t = 1; t < T; t++) {
    const base = t * plane;
    for (let j = 0; j < plane; j++) {
      const v = values[base + j];
      if (v > out[j]) {
        out[j] = v;
        arg[j] = t;
      }
    }
  }
  save([tf.tensor1d(arg, 'int32')]);
  return {
    value: tf.tensor2d(out, [N, D]),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const argmax = saved[0].dataSync();
      const g = dy.dataSync();
      const dx = new Float32Array(T * plane);
      for (let j = 0; j < plane; j++) dx[argmax[j] * plane + j] = g[j];
      return tf.tensor3d(dx, [T, N, D]);
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor3D) => tf.Tensor2D;
