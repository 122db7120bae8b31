import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/encoder/backend.js';
import { assertClose } from './helpers.js';

/** Runs f on a backend and returns the value and gradient as plain arrays. */
function onBackend(name: string, inputs: { values: number[]; shape: number[]; dtype?: 'float32' | 'int32' }[], f: (...xs: tf.Tensor[]) => tf.Tensor) {
  tf.setBackend(name);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'));
    const value = f(...xs);
    const floatIdx = inputs.map((i, k) => (i.dtype === 'int32' ? -1 : k)).filter((k) => k >= 0);
    const grads = tf.grads((...ys: tf.Tensor[]) => {
      const args = xs.map((x, k) => (floatIdx.includes(k) ? ys[floatIdx.indexOf(k)] : x));
      return tf.sum(tf.mul(f(...args), tf.range(0, value.size).reshape(value.shape).add(1)));
    })(floatIdx.map((k) => xs[k]));
    return { value: Array.from(value.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13.1) * 2);

describe('patched wasm kernels agree with the cpu backend (values and gradients)', () => {
  before(async () => {
    await initBackend('cpu');
    await initBackend('wasm');
  });
  after(() => {
    tf.setBackend('cpu');
  });

  const cases: [string, { values: number[]; shape: number[]; dtype?: 'float32' | 'int32' }[], (...xs: tf.Tensor[]) => tf.Tensor][] = [
    ['matMul a^T b', [{ values: rand(12, 1), shape: [4, 3] }, { values: rand(20, 2), shape: [4, 5] }], (a, b) => tf.matMul(a, b, true, false)],
    ['matMul a b^T', [{ values: rand(12, 3), shape: [3, 4] }, { values: rand(20, 4), shape: [5, 4] }], (a, b) => tf.matMul(a, b, false, true)],
    ['batched matMul a^T b^T', [{ values: rand(24, 5), shape: [2, 4, 3] }, { values: rand(40, 6), shape: [2, 5, 4] }], (a, b) => tf.matMul(a, b, true, true)],
    ['slice (contiguous)', [{ values: rand(60, 7), shape: [3, 4, 5] }], (x) => tf.slice(x, [1, 0, 0], [1, 4, 5])],
    ['slice (strided)', [{ values: rand(60, 8), shape: [3, 4, 5] }], (x) => tf.slice(x, [0, 1, 2], [3, 2, 3])],
    ['split', [{ values: rand(48, 9), shape: [3, 16] }], (x) => tf.concat(tf.split(x, 4, 1).map((p, i) => tf.mul(p, i + 1)), 0)],
    ['unstack', [{ values: rand(24, 10), shape: [4, 3, 2] }], (x) => tf.stack(tf.unstack(x).map((p, i) => tf.mul(p, i + 1)), 1)],
    ['tanh', [{ values: rand(30, 11).map((v) => v * 3), shape: [5, 6] }], (x) => tf.tanh(x)],
    ['gather (embedding lookup, needs UnsortedSegmentSum)', [{ values: rand(20, 12), shape: [5, 4] }, { values: [0, 3, 3, 1, 4, 3], shape: [2, 3], dtype: 'int32' }], (emb, ids) => tf.gather(emb, ids)],
  ];

  for (const [name, inputs, f] of cases) {
    test(name, () => {
      const cpu = onBackend('cpu', inputs, f);
      const wasm = onBackend('wasm', inputs, f);
      assertClose(wasm.value, cpu.value, 1e-5, `${name} value`);
      assert.equal(wasm.grads.length, cpu.grads.length);
      wasm.grads.forEach((g, i) => assertClose(g, cpu.grads[i], 1e-4, `${name} gradient ${i}`));
    });
  }

  test('unsortedSegmentSum directly', () => {
    const run = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => Array.from(tf.unsortedSegmentSum(tf.tensor2d(rand(12, 13), [4, 3]), tf.tensor1d([2, 0, 2, 1], 'int32'), 3).dataSync()));
    };
    assertClose(run('wasm'), run('cpu'), 1e-6);
  });
});
