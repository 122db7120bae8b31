import * as tf from '@tensorflow/tfjs-core';
import type { WeightMap } from '../encoder/weights.js';

/**
 * Adam's slots are named after the variables they track; variable names carry a per-instance
 * prefix, so the saved state uses the part after the prefix and is re-keyed on restore.
 */
const stripPrefix = (name: string) => name.replace(/^[^/]*\//, '');

export async function optimizerState(optimizer: tf.Optimizer): Promise<WeightMap> {
  const out: WeightMap = new Map();
  for (const { name, tensor } of await optimizer.getWeights()) {
    out.set(stripPrefix(name), { shape: tensor.shape, values: Float32Array.from(await tensor.data()) });
  }
  return out;
}

export async function restoreOptimizerState(optimizer: tf.Optimizer, state: WeightMap, prefix: string): Promise<void> {
  const named = [...state].map(([name, { shape, values }]) => ({
    name: name === 'iter' ? name : `${prefix}/${name}`,
    tensor: tf.tensor(values, shape),
  }));
  await optimizer.setWeights(named);
}
