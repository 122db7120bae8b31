/**
 * Training throughput (pairs/s) of the siamese LSTM on the wasm backend at the shape:
 * B=128 pairs, T=24, E=128, H=128, vocab 20k, Adam. Runs itself twice in child processes, with
 * all kernel replacements and with only the missing UnsortedSegmentSum, to give the speed-up as
 * a ratio measured in the same script.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/encoder/backend.js';
import type { ModelConfig } from '../../src/encoder/config.js';
import { SiameseEncoder } from '../../src/encoder/siamese-encoder.js';
import { ENERGIES } from '../../src/encoder/energies/registry.js';
import { parseLoss } from '../../src/training/losses/registry.js';
import { Random } from '../../src/util/random.js';
import { pytorchPeer, report, round } from './common.js';

const B = 128;
const T = 24;

async function measure(variant: { bidirectional: boolean; pooling: 'last' | 'max'; energy: 'euclidean' | 'cosine'; loss: string }, steps: number): Promise<number> {
  const info = await initBackend((process.env.DOPPEL_BACKEND as 'wasm') ?? 'wasm');
  void info;
  const config: ModelConfig = { format: 'doppel-siamese-lstm/1', vocabSize: 20_000, embeddingDim: 128, hiddenUnits: 128, layers: 1, projection: 0, maxLength: T, ...variant };
  const encoder = SiameseEncoder.initialise(config, 1);
  const rng = new Random(3);
  const ids = Int32Array.from({ length: 2 * B * T }, () => 1 + rng.int(19_999));
  const batch = { ids, lengths: new Int32Array(2 * B).fill(T), count: 2 * B, length: T };
  const labelValues = Float32Array.from({ length: B }, (_, i) => i % 2);
  const { loss } = parseLoss(variant.loss, { margin: 0.5, scale: 20 });
  const optimizer = tf.train.adam(1e-3);
  const vars = [...encoder.variables.values()];
  const step = () => {
    const cost = optimizer.minimize(() => {
      const [a, b] = tf.split(encoder.embed(batch), 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return loss({ a, b, labels: tf.tensor1d(labelValues), labelValues }, ENERGIES[config.energy]);
    }, true, vars);
    cost?.dataSync();
    cost?.dispose();
  };
  step();
  const started = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (steps * B) / ((performance.now() - started) / 1000);
}

const VARIANTS = {
  seed: { bidirectional: false, pooling: 'last', energy: 'euclidean', loss: 'contrastive' },
  default: { bidirectional: true, pooling: 'max', energy: 'cosine', loss: 'contrastive' },
} as const;

const child = process.env.DOPPEL_BENCH_CHILD as keyof typeof VARIANTS | undefined;
if (child) {
  process.stdout.write(String(await measure(VARIANTS[child], Number(process.env.DOPPEL_BENCH_STEPS ?? 8))));
} else {
  const run = (variant: string, kernels: string, steps: number) =>
    Number(execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, DOPPEL_BENCH_CHILD: variant, DOPPEL_WASM_KERNELS: kernels, DOPPEL_BENCH_STEPS: String(steps) } }).toString());
  const seed = run('seed', 'all', 10);
  const stock = run('seed', 'minimal', 2);
  const bi = run('default', 'all', 5);
  const config = { B, T, E: 128, H: 128, vocab: 20_000, optimizer: 'adam', backend: 'wasm' };
  // wasm runs on one thread, so PyTorch gets one too.
  const torch = pytorchPeer('train', { b: B, t: T, e: 128, h: 128, vocab: 20_000, threads: 1 });
  const peer = torch ? { pytorch: { pairsPerSecond: round(torch.value, 1), version: torch.torch, threads: torch.threads }, ratioToPyTorch: round(seed / torch.value, 2) } : { pytorch: 'not installed: no ratio' };
  report({ bench: 'train', metric: 'training throughput, LSTM(128) last state, contrastive', value: round(seed, 1), unit: 'pairs/s', target: '>= 200', config, stockKernels: round(stock, 1), speedupOverStock: round(seed / stock, 2), ...peer });
  report({ bench: 'train', metric: 'training throughput, BiLSTM(128x2) max-pool, cosine, contrastive', value: round(bi, 1), unit: 'pairs/s', config: { ...config, bidirectional: true } });
}
