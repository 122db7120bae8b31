import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/encoder/backend.js';
import { ENERGIES } from '../src/encoder/energies/registry.js';
import { contrastive } from '../src/training/losses/contrastive.js';
import { multipleNegativesRanking } from '../src/training/losses/multiple-negatives-ranking.js';
import { onlineContrastive } from '../src/training/losses/online-contrastive.js';
import { parseLoss } from '../src/training/losses/registry.js';
import { assertClose } from './helpers.js';

before(async () => {
  await initBackend('cpu');
});

const a = [
  [0, 0],
  [1, 0],
  [3, 4],
];
const b = [
  [0, 1],
  [1, 0],
  [0, 0],
];
const batch = (labels: number[]) => ({
  a: tf.tensor2d(a),
  b: tf.tensor2d(b),
  labels: tf.tensor1d(labels),
  labelValues: Float32Array.from(labels),
});

describe('energies', () => {
  test('euclidean: ||a - b||_2 on tensors and plain vectors', () => {
    assertClose(ENERGIES.euclidean.pair(tf.tensor2d(a), tf.tensor2d(b)).dataSync(), [1, 0, 5]);
    assert.equal(ENERGIES.euclidean.vectors([3, 4], [0, 0]), 5);
    assertClose(ENERGIES.euclidean.matrix(tf.tensor2d(a), tf.tensor2d(b)).dataSync(), [1, 1, 0, Math.SQRT2, 0, 1, Math.hypot(3, 3), Math.hypot(2, 4), 5], 1e-3);
  });
  test('cosine: 1 - cos(a, b)', () => {
    const e = ENERGIES.cosine.pair(tf.tensor2d([[1, 0], [1, 1], [1, 0]]), tf.tensor2d([[0, 1], [2, 2], [-1, 0]])).dataSync();
    assertClose(e, [1, 0, 2]);
    assert.ok(Math.abs(ENERGIES.cosine.vectors([1, 0], [1, 1]) - (1 - Math.SQRT1_2)) < 1e-6);
  });
  test('manhattan: ||a - b||_1', () => {
    assertClose(ENERGIES.manhattan.pair(tf.tensor2d(a), tf.tensor2d(b)).dataSync(), [1, 0, 7]);
    assert.equal(ENERGIES.manhattan.vectors([3, 4], [1, 1]), 5);
    assertClose(ENERGIES.manhattan.matrix(tf.tensor2d(a), tf.tensor2d(b)).dataSync(), [1, 1, 0, 2, 0, 1, 6, 6, 7]);
  });
});

describe('losses', () => {
  test('contrastive matches Y*E^2 + (1-Y)*max(m - E, 0)^2 by hand', () => {
    // E = [1, 0, 5]; margin 2. Y=[1,0,0]: 1^2 + max(2-0,0)^2 + max(2-5,0)^2 = 1 + 4 + 0 -> mean 5/3
    const loss = contrastive(2)(batch([1, 0, 0]), ENERGIES.euclidean).dataSync()[0];
    assert.ok(Math.abs(loss - 5 / 3) < 1e-4, `got ${loss}`);
    // Y=[0,1,1]: max(2-1,0)^2 + 0 + 25 -> 26/3
    const loss2 = contrastive(2)(batch([0, 1, 1]), ENERGIES.euclidean).dataSync()[0];
    assert.ok(Math.abs(loss2 - 26 / 3) < 1e-4, `got ${loss2}`);
  });

  test('online contrastive keeps only the hard pairs', () => {
    // E = [1, 0, 5], labels [1, 0, 1]: positives E 1 and 5, negative E 0.
    // Hard positives: E > min negative (0): both; hard negatives: E < max positive (5): the one.
    // (1 + 25 + max(2 - 0, 0)^2) / 3 = 30 / 3
    const loss = onlineContrastive(2)(batch([1, 0, 1]), ENERGIES.euclidean).dataSync()[0];
    assert.ok(Math.abs(loss - 10) < 1e-4, `got ${loss}`);
    // Easy batch: positive closer than every negative -> no hard pairs, zero loss.
    const easy = onlineContrastive(2)(batch([0, 1, 0]), ENERGIES.euclidean).dataSync()[0];
    assert.equal(easy, 0);
  });

  test('multiple negatives ranking is the in-batch softmax cross-entropy', () => {
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    const y = tf.tensor2d([[1, 0], [0, 1]]);
    const loss = multipleNegativesRanking(1)({ a: x, b: y, labels: tf.tensor1d([1, 1]), labelValues: Float32Array.from([1, 1]) }, ENERGIES.cosine).dataSync()[0];
    // logits -E: [[0, -1], [-1, 0]] -> -log(e^0 / (e^0 + e^-1)) in both directions
    const expected = -Math.log(1 / (1 + Math.exp(-1)));
    assert.ok(Math.abs(loss - expected) < 1e-5, `got ${loss}, expected ${expected}`);
    const none = multipleNegativesRanking(1)({ a: x, b: y, labels: tf.tensor1d([0, 0]), labelValues: Float32Array.from([0, 0]) }, ENERGIES.cosine).dataSync()[0];
    assert.equal(none, 0);
  });

  test('parseLoss sums weighted terms and rejects unknown names', () => {
    const { loss, names } = parseLoss('contrastive:2+online-contrastive', { margin: 2, scale: 20 });
    assert.deepEqual(names, ['contrastive', 'online-contrastive']);
    const v = loss(batch([1, 0, 0]), ENERGIES.euclidean).dataSync()[0];
    const expected = 2 * (5 / 3) + onlineContrastive(2)(batch([1, 0, 0]), ENERGIES.euclidean).dataSync()[0];
    assert.ok(Math.abs(v - expected) < 1e-4);
    assert.throws(() => parseLoss('triplet', { margin: 1, scale: 20 }), /unknown loss 'triplet'/);
  });
});
