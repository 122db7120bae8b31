import { readPairs } from '../../data/pairs.js';
import { evaluatePairs } from '../../evaluation/binary-classification.js';
import type { Model } from '../../model/load.js';

export async function evalCommand(model: Model, pairsPath: string, skipInvalid: boolean, json: boolean): Promise<void> {
  const { pairs, skipped } = await readPairs(pairsPath, { skipInvalid });
  const { metrics: m } = await evaluatePairs(model.encoder, model.energy, pairs, model.threshold);
  const result = { pairs: m.pairs, accuracy: m.accuracy, f1: m.f1, precision: m.precision, recall: m.recall, rocAuc: m.rocAuc, averagePrecision: m.averagePrecision, threshold: m.threshold };
  if (json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const lines = [
    `pairs              ${m.pairs}${skipped ? ` (${skipped} invalid rows skipped)` : ''}`,
    `accuracy           ${m.accuracy.toFixed(4)}`,
    `F1                 ${m.f1.toFixed(4)}`,
    `precision          ${m.precision.toFixed(4)}`,
    `recall             ${m.recall.toFixed(4)}`,
    `ROC-AUC            ${m.rocAuc.toFixed(4)}`,
    `average precision  ${m.averagePrecision.toFixed(4)}`,
    `threshold (energy) ${m.threshold.toFixed(4)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

export async function scoreCommand(model: Model, a: string, b: string, json: boolean): Promise<void> {
  const result = await model.scorePair(a, b);
  const { energy } = result;
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
  else
    process.stdout.write(
      `energy ${energy.toFixed(4)} (threshold ${model.threshold.toFixed(4)}), probability ${result.probability.toFixed(3)}: ${result.isDuplicate ? 'DUPLICATE' : 'not a duplicate'}\n`,
    );
}
