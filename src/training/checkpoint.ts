import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../encoder/config.js';
import { FILES } from '../model/model-dir.js';
import { loadWeights, saveWeights, type WeightMap } from '../encoder/weights.js';
import type { TrainerState, TrainSettings } from './train-encoder.js';

/** checkpoint.json: what a resumed run needs besides the weights. */
interface CheckpointJson {
  config: ModelConfig;
  settings: TrainSettings;
  state: TrainerState;
}

/** A training run as it stood after an epoch: enough to continue it where it stopped. */
export interface Checkpoint extends CheckpointJson {
  tokenizerJson: object;
  /** The latest epoch's weights and the optimizer state (Adam moments) that goes with them. */
  weights: WeightMap;
  optimizer: WeightMap;
  /** The best weights so far (by validation ROC-AUC), undefined before any usable epoch. */
  best: WeightMap | undefined;
}

/** The checkpoint's name inside a finished model directory. */
export const CHECKPOINT = 'checkpoint';
/** The best weights so far, kept in the checkpoint so that an interrupted run resumes whole. */
const BEST = 'best.';

/** Where a run keeps its checkpoint until the model directory is written: `<out>.checkpoint`. */
export const runCheckpointDir = (out: string) => `${out}.${CHECKPOINT}`;

const mtime = (path: string) => (existsSync(path) ? statSync(path).mtimeMs : -Infinity);

/**
 * The checkpoint to resume from: the newer of an interrupted run's (`<out>.checkpoint`) and the
 * finished model's (`<out>/checkpoint`).
 */
export function resumeDir(out: string): string | undefined {
  const candidates = [runCheckpointDir(out), join(out, CHECKPOINT)].filter((d) => existsSync(join(d, 'checkpoint.json')));
  return candidates.sort((a, b) => mtime(join(b, 'checkpoint.json')) - mtime(join(a, 'checkpoint.json')))[0];
}

/** Writes a checkpoint's files into `dir` (replaceDir publishes it whole); checkpoint.json last. */
export async function writeCheckpoint(dir: string, cp: Checkpoint): Promise<void> {
  await writeFile(join(dir, FILES.tokenizer), JSON.stringify(cp.tokenizerJson));
  await saveWeights(dir, cp.weights);
  await saveWeights(dir, cp.optimizer, 'optimizer.');
  if (cp.best) await saveWeights(dir, cp.best, BEST);
  const json: CheckpointJson = { config: cp.config, settings: cp.settings, state: cp.state };
  await writeFile(join(dir, 'checkpoint.json'), JSON.stringify(json));
}

/** Reads the checkpoint in `dir`, a checkpoint of the model directory `out`. */
export async function readCheckpoint(dir: string, out: string): Promise<Checkpoint> {
  const { config, settings, state } = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointJson;
  const tokenizerJson = JSON.parse(await readFile(join(dir, FILES.tokenizer), 'utf8')) as object;
  const weights = await loadWeights(dir);
  const optimizer = await loadWeights(dir, 'optimizer.');
  // Checkpoints written before the best weights were kept in them: the model beside them is the best.
  const best = existsSync(join(dir, BEST + 'weights.json')) ? await loadWeights(dir, BEST) : state.bestEpoch > 0 ? await loadWeights(out) : undefined;
  return { config, settings, state, tokenizerJson, weights, optimizer, best };
}

/** A copy of weights that later training steps cannot change. */
export const copyWeights = (w: WeightMap): WeightMap => new Map([...w].map(([k, { shape, values }]) => [k, { shape: [...shape], values: Float32Array.from(values) }]));
