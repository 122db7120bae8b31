import * as tf from '@tensorflow/tfjs-core';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DoppelError } from '../errors.js';

export interface WeightEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements into weights.bin. */
  offset: number;
}

export const WEIGHTS_BIN = 'weights.bin';
export const WEIGHTS_JSON = 'weights.json';

/** Named float32 arrays, the portable form of a model's parameters (no tfjs needed to read them). */
export type WeightMap = Map<string, { shape: number[]; values: Float32Array }>;

export async function saveWeights(dir: string, weights: WeightMap, prefix = ''): Promise<void> {
  const entries: WeightEntry[] = [];
  let offset = 0;
  for (const [name, { shape }] of weights) {
    entries.push({ name, shape, offset });
    offset += tf.util.sizeFromShape(shape);
  }
  const all = new Float32Array(offset);
  entries.forEach((e) => all.set(weights.get(e.name)!.values, e.offset));
  await writeFile(join(dir, prefix + WEIGHTS_BIN), new Uint8Array(all.buffer));
  await writeFile(join(dir, prefix + WEIGHTS_JSON), JSON.stringify(entries, null, 1));
}

export async function loadWeights(dir: string, prefix = ''): Promise<WeightMap> {
  try {
    const entries = JSON.parse(await readFile(join(dir, prefix + WEIGHTS_JSON), 'utf8')) as WeightEntry[];
    const bin = await readFile(join(dir, prefix + WEIGHTS_BIN));
    const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    const map: WeightMap = new Map();
    for (const e of entries) {
      const size = tf.util.sizeFromShape(e.shape);
      if (e.offset + size > all.length) throw new DoppelError('MODEL_ERROR', `${e.name} runs past the end of ${WEIGHTS_BIN}`);
      map.set(e.name, { shape: e.shape, values: all.subarray(e.offset, e.offset + size) });
    }
    return map;
  } catch (err) {
    throw new DoppelError('MODEL_ERROR', `cannot load weights from ${dir}: ${(err as Error).message}`);
  }
}

export function variablesToWeights(vars: Map<string, tf.Variable>): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, v] of vars) out.set(name, { shape: v.shape, values: v.dataSync() as Float32Array });
  return out;
}
