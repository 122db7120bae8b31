import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readPairs } from '../src/data/pairs.js';
import { initBackend } from '../src/encoder/backend.js';
import type { ModelConfig } from '../src/encoder/config.js';
import { SiameseEncoder } from '../src/encoder/siamese-encoder.js';
import { pairEnergies } from '../src/evaluation/binary-classification.js';
import { loadModel } from '../src/model/load.js';
import { saveModelFiles } from '../src/model/model-dir.js';
import { exportModelDir } from '../src/model/export-onnx.js';
import { OnnxQuestionEncoder } from '../src/encoder/onnx/onnx-encoder.js';
import { TfjsQuestionEncoder } from '../src/encoder/question-encoder.js';
import { variablesToWeights } from '../src/encoder/weights.js';
import { buildTokenizerJson } from '../src/text/encoder-vocab.js';
import { Tokenizer } from '../src/text/encoder-tokenizer.js';
import { SAMPLE_PAIRS, tempDir } from './helpers.js';

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('ONNX export agrees with tfjs', () => {
  let texts: string[];
  let tokenizerJson: object;
  before(async () => {
    await initBackend('cpu');
    const { pairs } = await readPairs(SAMPLE_PAIRS);
    texts = pairs.slice(0, 60).flatMap((p) => [p.q1, p.q2]);
    texts.push('', '?', 'a '.repeat(80)); // empty, one token, truncated
    tokenizerJson = buildTokenizerJson(texts, { maxWords: 2000, minCount: 1 });
  });

  const variants: Partial<ModelConfig>[] = [];
  for (const pooling of ['last', 'mean', 'max'] as const) for (const bidirectional of [false, true]) variants.push({ pooling, bidirectional });
  variants.push({ layers: 2, bidirectional: true, pooling: 'max', projection: 12 }, { layers: 2, pooling: 'last', energy: 'manhattan' }, { pooling: 'mean', projection: 7, energy: 'euclidean' });

  for (const variant of variants) {
    test(JSON.stringify(variant), async (t) => {
      const dir = join(tempDir((fn) => t.after(fn)), 'model');
      mkdirSync(dir);
      const tokenizer = Tokenizer.fromJson(tokenizerJson);
      const config: ModelConfig = { format: 'doppel-siamese-lstm/1', vocabSize: tokenizer.vocabSize, embeddingDim: 16, hiddenUnits: 10, layers: 1, bidirectional: false, pooling: 'last', projection: 0, energy: 'cosine', maxLength: 32, ...variant };
      const encoder = SiameseEncoder.initialise(config, 11);
      await saveModelFiles(dir, { config, tokenizerJson, weights: variablesToWeights(encoder.variables), calibration: { threshold: 0.5, criterion: 'accuracy', platt: { a: 1, b: 0 } } });
      await exportModelDir(dir);
      const tfjs = await new TfjsQuestionEncoder(encoder, tokenizer).encode(texts);
      const onnx = await OnnxQuestionEncoder.create(join(dir, 'model.onnx'), tokenizer, config, encoder.dim, { threads: 1 });
      const ort = await onnx.encode(texts);
      assert.equal(ort.length, tfjs.length);
      const diff = maxAbsDiff(ort, tfjs);
      assert.ok(diff < 1e-4, `max |onnx - tfjs| = ${diff}`);
      onnx.dispose();
      encoder.dispose();
    });
  }

  test('the bundled model: same embeddings and the same duplicate decisions on real pairs', async () => {
    const { pairs } = await readPairs(SAMPLE_PAIRS);
    const sample = pairs.slice(0, 300);
    const onnx = await loadModel(undefined, { runtime: 'onnx', threads: 1 });
    const tfjs = await loadModel(undefined, { runtime: 'tfjs', backend: 'cpu' });
    assert.match(onnx.encoder.runtime, /^onnxruntime/);
    assert.match(tfjs.encoder.runtime, /^tfjs/);
    const a = await pairEnergies(onnx.encoder, onnx.energy, sample);
    const b = await pairEnergies(tfjs.encoder, tfjs.energy, sample);
    assert.ok(maxAbsDiff(a.energies, b.energies) < 1e-4);
    const decisions = (e: Float32Array) => Array.from(e, (v) => v <= onnx.threshold);
    assert.deepEqual(decisions(a.energies), decisions(b.energies));
    onnx.dispose();
    tfjs.dispose();
  });
});
