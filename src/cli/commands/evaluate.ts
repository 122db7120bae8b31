import { readPairs } from '../../data/pairs.js';
import { type BinaryMetrics, evaluatePairs } from '../../evaluation/binary-classification.js';
import { measurePoints, reliability } from '../../evaluation/calibration.js';
import { OPERATING_POINTS } from '../../verdict/operating-points.js';
import type { Model } from '../../model/load.js';
import { verdictMetrics } from '../../training/fit-verdict.js';

const summary = (m: BinaryMetrics) => ({ pairs: m.pairs, accuracy: m.accuracy, f1: m.f1, precision: m.precision, recall: m.recall, rocAuc: m.rocAuc, averagePrecision: m.averagePrecision, threshold: m.threshold });

/**
 * `doppel eval`: the model's decision on labelled pairs (the verdict stage's when the model has
 * one, with the energy alone beside it), at the thresholds chosen in training; each operating
 * point's precision and recall on these pairs beside those it had on validation; and how well
 * the probabilities are calibrated on them.
 */
export async function evalCommand(model: Model, pairsPath: string, skipInvalid: boolean, json: boolean): Promise<void> {
  const { pairs, skipped } = await readPairs(pairsPath, { skipInvalid });
  const { energies, metrics: energyOnly } = await evaluatePairs(model.classifier.encoder, model.classifier.energy, pairs, model.threshold);
  const verdict = model.verdict ? verdictMetrics(model.verdict, pairs, energies) : undefined;
  const top = verdict ?? energyOnly;
  const probabilities = pairs.map((p, i) => model.judge(p.q1, p.q2, energies[i]).probability);
  const labels = pairs.map((p) => p.label);
  const measured = measurePoints(model.operatingPoints, probabilities, labels);
  const points = Object.fromEntries(OPERATING_POINTS.map((name) => [name, { ...measured[name], validation: { precision: model.operatingPoints[name].precision, recall: model.operatingPoints[name].recall } }]));
  const calibration = reliability(probabilities, labels);
  if (json) {
    process.stdout.write(JSON.stringify({ ...summary(top), decidedBy: verdict ? 'verdict' : 'energy', energyOnly: summary(energyOnly), operatingPoints: points, calibration }) + '\n');
    return;
  }
  const row = (name: string, pick: (m: BinaryMetrics) => number) =>
    `${name.padEnd(19)}${[top, ...(verdict ? [energyOnly] : [])].map((m) => pick(m).toFixed(4).padStart(10)).join('')}`;
  const lines = [
    `pairs              ${pairs.length}${skipped ? ` (${skipped} invalid rows skipped)` : ''}`,
    `${''.padEnd(19)}${(verdict ? ['verdict', 'energy'] : ['energy']).map((h) => h.padStart(10)).join('')}`,
    row('accuracy', (m) => m.accuracy),
    row('F1', (m) => m.f1),
    row('precision', (m) => m.precision),
    row('recall', (m) => m.recall),
    row('ROC-AUC', (m) => m.rocAuc),
    row('average precision', (m) => m.averagePrecision),
    row('threshold', (m) => m.threshold),
    '',
    `operating point    threshold  precision     recall  (on validation: precision, recall)`,
    ...OPERATING_POINTS.map((name) => {
      const p = points[name];
      const v = p.validation.precision === null ? 'not recorded' : `${p.validation.precision.toFixed(3)}, ${p.validation.recall!.toFixed(3)}`;
      return `${name.padEnd(19)}${p.threshold.toFixed(4).padStart(9)}${p.precision.toFixed(4).padStart(11)}${p.recall.toFixed(4).padStart(11)}  (${v})`;
    }),
    `calibration error  ${calibration.ece.toFixed(4)} (ECE, 10 bins)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
