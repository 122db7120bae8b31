import * as tf from '@tensorflow/tfjs-core';
// The @tensorflow/tfjs bundle registers every op's gradient (tfjs-core's entry point does not).
import '@tensorflow/tfjs';
import { DoppelError } from '../errors.js';
import { installWasmKernels } from './wasm-kernels.js';

export const BACKEND_CHOICES = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

export interface BackendInfo {
  /** What was asked for (`auto` unless overridden). */
  requested: BackendChoice;
  /** What runs: one of node-gpu, node, wasm, cpu. */
  name: ConcreteBackend;
  /** The tfjs backend name registered with the engine. */
  tfjsName: string;
}

/** Fastest first: the order `auto` tries them in. */
const AUTO_ORDER: ConcreteBackend[] = ['node-gpu', 'node', 'wasm', 'cpu'];

// Specifiers live in variables so that TypeScript does not require the optional node bindings.
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const NODE_CPU = '@tensorflow/tfjs-node';

async function activate(name: ConcreteBackend): Promise<string> {
  switch (name) {
    case 'node-gpu':
      await import(NODE_GPU);
      break;
    case 'node':
      await import(NODE_CPU);
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
  const tfjsName = name === 'node-gpu' || name === 'node' ? 'tensorflow' : name;
  if (!(await tf.setBackend(tfjsName))) throw new DoppelError('BACKEND_UNAVAILABLE', `tfjs backend '${tfjsName}' failed to initialise`);
  await tf.ready();
  if (tfjsName === 'wasm') installWasmKernels();
  return tfjsName;
}

export function parseBackendChoice(value: string | undefined): BackendChoice {
  const v = (value ?? 'auto').trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new DoppelError('INVALID_INPUT', `unknown backend '${value}': expected one of ${BACKEND_CHOICES.join(', ')}`);
}

let current: BackendInfo | undefined;

/**
 * Selects the tfjs backend once per process: the explicit choice, else DOPPEL_BACKEND, else the
 * first of node-gpu, node, wasm, cpu that loads. The node bindings are optional dependencies that
 * download libtensorflow at install time, so they are only present where a user added them.
 */
export async function initBackend(
  choice: BackendChoice | undefined = undefined,
  log: (message: string) => void = () => {},
): Promise<BackendInfo> {
  const requested = choice ?? parseBackendChoice(process.env.DOPPEL_BACKEND);
  if (current && (requested === 'auto' || requested === current.name)) return current;
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const failures: string[] = [];
  for (const name of order) {
    try {
      const tfjsName = await activate(name);
      current = { requested, name, tfjsName };
      log(`tfjs backend: ${name}${requested === 'auto' ? ' (auto)' : ''}`);
      return current;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new DoppelError('BACKEND_UNAVAILABLE', `no tfjs backend could be loaded (${failures.join('; ')})`);
}
