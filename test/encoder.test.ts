import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/encoder/backend.js';
import type { ModelConfig } from '../src/encoder/config.js';
import { mergeEmbedding, SiameseEncoder, splitEmbedding } from '../src/encoder/siamese-encoder.js';
import { ENERGIES } from '../src/encoder/energies/registry.js';
import { contrastive } from '../src/training/losses/contrastive.js';
import type { TokenBatch } from '../src/text/encoder-tokenizer.js';
import { assertClose } from './helpers.js';

const config = (over: Partial<ModelConfig> = {}): ModelConfig => ({
  format: 'doppel-siamese-lstm/1',
  vocabSize: 50,
  embeddingDim: 8,
  hiddenUnits: 6,
  layers: 1,
  bidirectional: false,
  pooling: 'last',
  projection: 0,
  energy: 'euclidean',
  maxLength: 10,
  ...over,
});

const tokens = (rows: number[][]): TokenBatch => {
  const length = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * length);
  rows.forEach((r, i) => ids.set(r, i * length));
  return { ids, lengths: Int32Array.from(rows, (r) => r.length), count: rows.length, length };
};

before(async () => {
  await initBackend('cpu');
});

describe('siamese encoder', () => {
  test('one set of variables serves both towers', () => {
    const enc = SiameseEncoder.initialise(config({ bidirectional: true, projection: 4 }), 1);
    const names = [...enc.variables.keys()];
    assert.deepEqual(names, ['embedding', 'lstm0.fw.kernel', 'lstm0.fw.recurrent', 'lstm0.fw.bias', 'lstm0.bw.kernel', 'lstm0.bw.recurrent', 'lstm0.bw.bias', 'projection.kernel', 'projection.bias']);
    assert.equal(enc.dim, 4);
    enc.dispose();
  });

  test('identical inputs give identical embeddings, in any row and any batch', () => {
    for (const pooling of ['last', 'mean', 'max'] as const) {
      const enc = SiameseEncoder.initialise(config({ pooling, bidirectional: true }), 2);
      const out = tf.tidy(() => enc.embed(tokens([[5, 6, 7], [9, 3, 0], [5, 6, 7]])).arraySync());
      assertClose(out[0], out[2], 1e-6, `${pooling} rows`);
      // Padding must not change a sequence's embedding.
      const alone = tf.tidy(() => enc.embed(tokens([[5, 6, 7]])).arraySync());
      const padded = tf.tidy(() => enc.embed(tokens([[5, 6, 7], [1, 2, 3, 4, 5, 6, 7]])).arraySync());
      assertClose(alone[0], padded[0], 1e-5, `${pooling} padding`);
      enc.dispose();
    }
  });

  test('LSTM init: keras (forget bias 1, orthogonal recurrent) by default, or uniform within 1/sqrt(H)', () => {
    const H = 6;
    const keras = SiameseEncoder.initialise(config(), 7);
    const bias = keras.variables.get('lstm0.fw.bias')!.dataSync();
    assert.deepEqual(Array.from(bias), [...Array(H).fill(0), ...Array(H).fill(1), ...Array(2 * H).fill(0)]);
    const rec = keras.variables.get('lstm0.fw.recurrent')!.arraySync() as number[][];
    const col0 = rec.map((r) => r[0]);
    assertClose([Math.hypot(...col0)], [1], 1e-5, 'orthogonal column norm');
    keras.dispose();
    const uni = SiameseEncoder.initialise(config({ bidirectional: true }), 7, undefined, { lstmInit: 'uniform' });
    const k = 1 / Math.sqrt(H);
    for (const [name, v] of uni.variables) {
      if (!name.startsWith('lstm')) continue;
      const values = Array.from(v.dataSync());
      const limit = name.endsWith('.bias') ? 2 * k : k;
      assert.ok(values.every((x) => Math.abs(x) <= limit), `${name} within ${limit}`);
      assert.ok(values.some((x) => Math.abs(x) > k / 4), `${name} not all near zero`);
    }
    uni.dispose();
  });

  test('gradients from both towers reach the same variables', () => {
    const enc = SiameseEncoder.initialise(config(), 3);
    const vars = [...enc.variables.values()];
    const batch = tokens([[1, 2, 3], [4, 5, 6]]);
    const gradOf = (tower: 'a' | 'b') =>
      tf.variableGrads(() => {
        const out = enc.embed(batch);
        const [a, b] = tf.split(out, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        return tf.sum(tower === 'a' ? a : b) as tf.Scalar;
      }, vars).grads;
    const ga = gradOf('a');
    const gb = gradOf('b');
    for (const name of ['lstm0.fw.kernel', 'lstm0.fw.recurrent', 'lstm0.fw.bias']) {
      const key = enc.variables.get(name)!.name;
      assert.ok(tf.sum(tf.abs(ga[key])).dataSync()[0] > 0, `tower a reaches ${name}`);
      assert.ok(tf.sum(tf.abs(gb[key])).dataSync()[0] > 0, `tower b reaches ${name}`);
    }
    // The loss of a pair puts the sum of both towers' gradients on the shared variables.
    const both = tf.variableGrads(() => {
      const out = enc.embed(batch);
      const [a, b] = tf.split(out, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return tf.add(tf.sum(a), tf.sum(b)) as tf.Scalar;
    }, vars).grads;
    const key = enc.variables.get('lstm0.fw.recurrent')!.name;
    assertClose(both[key].dataSync(), tf.add(ga[key], gb[key]).dataSync(), 1e-5, 'summed gradient');
    enc.dispose();
  });

  test('a contrastive step lowers the loss', () => {
    const enc = SiameseEncoder.initialise(config({ energy: 'cosine' }), 4);
    const vars = [...enc.variables.values()];
    const batch = tokens([[1, 2, 3], [4, 5, 6], [1, 2, 4], [7, 8, 9]]);
    const labels = Float32Array.from([1, 0]);
    const lossFn = () => {
      const [a, b] = tf.split(enc.embed(batch), 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return contrastive(0.5)({ a, b, labels: tf.tensor1d(labels), labelValues: labels }, ENERGIES.cosine);
    };
    const before = tf.tidy(() => lossFn().dataSync()[0]);
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 10; i++) opt.minimize(lossFn, false, vars);
    const after = tf.tidy(() => lossFn().dataSync()[0]);
    assert.ok(after < before, `loss ${before} -> ${after}`);
    enc.dispose();
  });

  test('a split embedding trains the rows training uses and keeps the others at their initial vectors', () => {
    const enc = SiameseEncoder.initialise(config({ energy: 'cosine', bidirectional: true, pooling: 'max' }), 5);
    const embedding = enc.variables.get('embedding')!;
    const E = 8;
    const initial = Float32Array.from(embedding.dataSync() as Float32Array);
    const batch = tokens([[1, 2, 3], [4, 5, 40], [1, 2, 4], [7, 41]]);
    // Rows 40 and 41 (say, pretrained words that no training pair uses) are fixed.
    const trained = Array.from({ length: 50 }, (_, id) => id !== 40 && id !== 41);
    const table = splitEmbedding(embedding as unknown as tf.Tensor2D, trained, 'split-test/embedding.trained');
    assert.deepEqual(table.trainable.shape, [48, E]);
    assert.deepEqual(table.fixed.shape, [2, E]);
    // The same lookups, so the same outputs.
    const plain = tf.tidy(() => enc.embed(batch).arraySync());
    const split = tf.tidy(() => enc.embed(batch, { table }).arraySync());
    plain.forEach((row, i) => assertClose(split[i], row, 1e-6, `row ${i}`));
    // The gradient on a trainable row is that row of the full matrix's gradient.
    const labels = Float32Array.from([1, 0]);
    const lossFn = (withTable: boolean) => () => {
      const [a, b] = tf.split(enc.embed(batch, withTable ? { table } : {}), 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return contrastive(0.5)({ a, b, labels: tf.tensor1d(labels), labelValues: labels }, ENERGIES.cosine);
    };
    const full = tf.variableGrads(lossFn(false), [embedding]).grads[embedding.name].dataSync();
    const part = tf.variableGrads(lossFn(true), [table.trainable]).grads[table.trainable.name].dataSync();
    assertClose(part.subarray(1 * E, 2 * E), full.subarray(1 * E, 2 * E), 1e-5, 'gradient of row 1');
    assertClose(part.subarray(39 * E, 40 * E), full.subarray(42 * E, 43 * E), 1e-5, 'gradient of row 42 (trainable row 40)');
    // Adam steps, then the trained rows are written back: rows 40 and 41 keep their initial vectors.
    const others = [...enc.variables].filter(([name]) => name !== 'embedding').map(([, v]) => v);
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 5; i++) opt.minimize(lossFn(true), false, [table.trainable, ...others]);
    mergeEmbedding(embedding, table);
    const after = embedding.dataSync();
    for (const id of [40, 41]) assert.deepEqual(Array.from(after.subarray(id * E, (id + 1) * E)), Array.from(initial.subarray(id * E, (id + 1) * E)), `row ${id} fixed`);
    assert.ok(after.subarray(1 * E, 2 * E).some((x, j) => x !== initial[1 * E + j]), 'row 1 trained');
    assert.deepEqual(Array.from(after.subarray(10 * E, 11 * E)), Array.from(initial.subarray(10 * E, 11 * E)), 'an unused trainable row gets no update');
    opt.dispose();
    tf.dispose([table.trainable, table.fixed]);
    enc.dispose();
  });
});
