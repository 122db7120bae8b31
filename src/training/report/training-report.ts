import { type BinaryMetrics, rocCurve } from '../../evaluation/binary-classification.js';
import type { EpochReport } from '../train-encoder.js';
import type { VerdictReport } from '../verdict-stage.js';
import { histogramChart, lineChart } from './svg.js';

export interface TrainingReport {
  model: string;
  createdAt: string;
  backend: string;
  config: object;
  settings: object;
  data: object;
  history: EpochReport[];
  bestEpoch: number;
  /** Validation metrics of the kept model at its calibrated threshold. */
  validation: BinaryMetrics;
  calibration: object;
  roc: [number, number][];
  energies: { genuine: number[]; impostor: number[] };
  /** The verdict stage on held-out pairs (its operating points and calibration), when it was measured there. */
  verdict?: { pairs: number; test: NonNullable<VerdictReport['test']> };
}

export function buildReport(
  base: Omit<TrainingReport, 'roc' | 'energies'>,
  energies: Float32Array,
  labels: Float32Array,
): TrainingReport {
  const genuine: number[] = [];
  const impostor: number[] = [];
  energies.forEach((e, i) => (labels[i] === 1 ? genuine : impostor).push(Number(e.toFixed(5))));
  return { ...base, roc: rocCurve(energies, labels), energies: { genuine, impostor } };
}

export function reportHtml(r: TrainingReport): string {
  const epochs = r.history.map((h) => h.epoch);
  const v = r.validation;
  const rows = Object.entries({ accuracy: v.accuracy, f1: v.f1, precision: v.precision, recall: v.recall, 'ROC-AUC': v.rocAuc, 'average precision': v.averagePrecision, threshold: v.threshold })
    .map(([k, x]) => `<tr><th>${k}</th><td>${x.toFixed(4)}</td></tr>`)
    .join('');
  const charts = [
    lineChart('Training loss per epoch', 'epoch', [{ name: 'train loss', color: '#c0392b', points: r.history.map((h) => [h.epoch, h.trainLoss]) }]),
    lineChart('Validation metrics per epoch', 'epoch', [
      { name: 'ROC-AUC', color: '#2471a3', points: r.history.map((h) => [h.epoch, h.valid.rocAuc]) },
      { name: 'accuracy', color: '#229954', points: r.history.map((h) => [h.epoch, h.valid.accuracy]) },
      { name: 'F1', color: '#b9770e', points: r.history.map((h) => [h.epoch, h.valid.f1]) },
    ]),
    histogramChart('Validation energy: genuine vs impostor pairs', 'energy', [
      { name: 'genuine (Y=1)', color: '#229954', values: r.energies.genuine },
      { name: 'impostor (Y=0)', color: '#c0392b', values: r.energies.impostor },
    ], { x: v.threshold, label: `threshold ${v.threshold.toFixed(3)}` }),
    lineChart('ROC curve (validation)', 'false positive rate', [{ name: `AUC ${v.rocAuc.toFixed(3)}`, color: '#2471a3', points: r.roc }], [0, 1]),
  ].join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Doppel training report</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}figure{display:inline-block;margin:0 1rem 1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}table{border-collapse:collapse}th,td{padding:.2rem .8rem;border-bottom:1px solid #ddd;text-align:left}pre{background:#f6f6f6;padding:.8rem;overflow:auto}</style></head>
<body><h1>Doppel training report</h1>
<p>Model <code>${r.model}</code>, ${r.createdAt}, backend <code>${r.backend}</code>, best epoch ${r.bestEpoch} of ${epochs.length}.</p>
<h2>Validation at the calibrated threshold</h2><table>${rows}</table>
<h2>Curves</h2>${charts}
${r.verdict ? verdictSection(r.verdict) : ''}
<h2>Configuration</h2><pre>${JSON.stringify({ config: r.config, settings: r.settings, data: r.data, calibration: r.calibration }, null, 2).replace(/</g, '&lt;')}</pre>
</body></html>`;
}

/** The verdict on held-out pairs: its operating points, and a reliability diagram of its probabilities. */
function verdictSection(v: NonNullable<TrainingReport['verdict']>): string {
  const points = Object.entries(v.test.operatingPoints)
    .map(([name, p]) => `<tr><th>${name}</th><td>${p.threshold.toFixed(3)}</td><td>${p.precision.toFixed(3)}</td><td>${p.recall.toFixed(3)}</td></tr>`)
    .join('');
  const bins = v.test.calibration.bins.filter((b) => b.pairs > 0);
  const diagram = lineChart(
    `Reliability on ${v.pairs} held-out pairs (ECE ${v.test.calibration.ece.toFixed(3)})`,
    'predicted probability',
    [
      { name: 'observed share of duplicates', color: '#2471a3', points: bins.map((b) => [b.predicted, b.observed]) },
      { name: 'perfect calibration', color: '#999999', points: [[0, 0], [1, 1]] },
    ],
    [0, 1],
  );
  return `<h2>Verdict on held-out pairs</h2><table><tr><th>operating point</th><th>threshold</th><th>precision</th><th>recall</th></tr>${points}</table>\n${diagram}`;
}
