/**
 * Encoding throughput (questions/s) of the tower at T=24, E=128, H=128, batch 1024, on tfjs-wasm
 * and on ONNX Runtime (1 and 2 threads), in one process so the ratio is like for like; then
 * end-to-end (tokenize + encode) on real questions with the bundled model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/encoder/backend.js';
import type { ModelConfig } from '../../src/encoder/config.js';
import { SiameseEncoder } from '../../src/encoder/siamese-encoder.js';
import { loadModel } from '../../src/model/load.js';
import { saveModelFiles } from '../../src/model/model-dir.js';
import { exportModelDir } from '../../src/model/export-onnx.js';
import { OnnxQuestionEncoder } from '../../src/encoder/onnx/onnx-encoder.js';
import { TfjsQuestionEncoder } from '../../src/encoder/question-encoder.js';
import { variablesToWeights } from '../../src/encoder/weights.js';
import { tokenizerJson } from '../../src/text/encoder-tokenizer-spec.js';
import { Tokenizer } from '../../src/text/encoder-tokenizer.js';
import { pytorchPeer, realQuestions, report, round } from './common.js';

const T = 24;
const BATCH = 1024;
const N = 8192;

// Texts of exactly T single-token words, so that the tower sees T=24 on every row.
const words = Array.from({ length: 5000 }, (_, i) => `w${i}`);
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
const tokenizer = Tokenizer.fromJson(tokenizerJson(vocab));
const texts = Array.from({ length: N }, (_, i) => Array.from({ length: T }, (_, t) => words[(i * 31 + t * 7) % words.length]).join(' '));

async function rate(encode: (texts: string[]) => Promise<Float32Array>, count: number): Promise<number> {
  await encode(texts.slice(0, BATCH));
  const started = performance.now();
  await encode(texts.slice(0, count));
  return count / ((performance.now() - started) / 1000);
}

await initBackend('wasm');
const config: ModelConfig = { format: 'doppel-siamese-lstm/1', vocabSize: vocab.length, embeddingDim: 128, hiddenUnits: 128, layers: 1, bidirectional: false, pooling: 'last', projection: 0, energy: 'euclidean', maxLength: T };
const encoder = SiameseEncoder.initialise(config, 1);
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-'));
try {
  await saveModelFiles(dir, { config, tokenizerJson: tokenizerJson(vocab), weights: variablesToWeights(encoder.variables), calibration: { threshold: 1, criterion: 'accuracy', platt: { a: 1, b: 0 } } });
  await exportModelDir(dir);
  const tfjs = new TfjsQuestionEncoder(encoder, tokenizer, BATCH);
  const tfjsRate = await rate((x) => tfjs.encode(x), 4096);
  const onnx1 = await OnnxQuestionEncoder.create(join(dir, 'model.onnx'), tokenizer, config, 128, { threads: 1, batchSize: BATCH });
  const onnx1Rate = await rate((x) => onnx1.encode(x), N);
  const onnx2 = await OnnxQuestionEncoder.create(join(dir, 'model.onnx'), tokenizer, config, 128, { threads: 2, batchSize: BATCH });
  const onnx2Rate = await rate((x) => onnx2.encode(x), N);
  const cfg = { T, E: 128, H: 128, batch: BATCH, tokenizeIncluded: true };
  report({ bench: 'encode', metric: 'encoding, tfjs wasm', value: round(tfjsRate, 0), unit: 'questions/s', target: '>= 1100', config: cfg });
  // PyTorch with as many threads as each ONNX Runtime run (its encoding excludes tokenizing).
  const peer = (threads: number, rate: number) => {
    const torch = pytorchPeer('encode', { b: BATCH, t: T, e: 128, h: 128, vocab: vocab.length, threads });
    return torch ? { pytorch: { questionsPerSecond: round(torch.value, 0), version: torch.torch, threads, tokenizeIncluded: false }, ratioToPyTorch: round(rate / torch.value, 2) } : { pytorch: 'not installed: no ratio' };
  };
  report({ bench: 'encode', metric: 'encoding, ONNX Runtime 1 thread', value: round(onnx1Rate, 0), unit: 'questions/s', config: cfg, ratioToTfjs: round(onnx1Rate / tfjsRate, 1), ...peer(1, onnx1Rate) });
  report({ bench: 'encode', metric: 'encoding, ONNX Runtime 2 threads', value: round(onnx2Rate, 0), unit: 'questions/s', target: '>= 6000', config: cfg, ratioToTfjs: round(onnx2Rate / tfjsRate, 1), ...peer(2, onnx2Rate) });
  onnx1.dispose();
  onnx2.dispose();

  // The bundled model on real questions (variable length, as in use).
  const { texts: real, dataset } = await realQuestions();
  const model = await loadModel(undefined, { runtime: 'onnx' });
  const sample = real.slice(0, 20_000);
  await model.encoder.encode(sample.slice(0, 1000));
  const started = performance.now();
  await model.encoder.encode(sample);
  const seconds = (performance.now() - started) / 1000;
  report({ bench: 'encode', metric: 'encoding real questions, bundled model, ONNX Runtime', value: round(sample.length / seconds, 0), unit: 'questions/s', config: { model: model.files.config, runtime: model.encoder.runtime, questions: sample.length, dataset } });
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
