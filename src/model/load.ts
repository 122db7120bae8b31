import { type BackendChoice, initBackend } from './backend.js';
import { type Energy, ENERGIES } from './energies/index.js';
import { SiameseEncoder } from './encoder.js';
import { plattProbability } from './evaluation/platt.js';
import { loadModelFiles, type ModelFiles } from './model-dir.js';
import { type TextEncoder, TfjsTextEncoder } from './text-encoder.js';

export interface LoadModelOptions {
  backend?: BackendChoice;
  log?: (message: string) => void;
}

/** A trained model ready to score: its encoder, energy and calibrated decision. */
export interface Model {
  files: ModelFiles;
  id: string;
  encoder: TextEncoder;
  energy: Energy;
  threshold: number;
  probability(energy: number): number;
  isDuplicate(energy: number): boolean;
  dispose(): void;
}

export async function loadModel(dir?: string, options: LoadModelOptions = {}): Promise<Model> {
  const files = await loadModelFiles(dir);
  await initBackend(options.backend, options.log);
  const encoder: TextEncoder = new TfjsTextEncoder(SiameseEncoder.fromWeights(files.config, files.weights), files.tokenizer);
  const { calibration } = files;
  return {
    files,
    id: files.id,
    encoder,
    energy: ENERGIES[files.config.energy],
    threshold: calibration.threshold,
    probability: (e) => plattProbability(calibration.platt, e),
    isDuplicate: (e) => e <= calibration.threshold,
    dispose: () => encoder.dispose(),
  };
}
