/**
 * Quality of the bundled model on pairs no stage of it was fit on: the test question clusters of
 * its own training split (rebuilt from the seed and fractions its training.json records), and the
 * PAWS-QQP adversarial pairs. Each is scored by the verdict stage and by the energy alone. Then
 * the verdict's cost: judging 10 candidates of a query, with the stored questions' analyses cached
 * as a store's are. Needs ../shared/data/qqp-pairs: the sample was not held out of the model.
 */
import { join, resolve } from 'node:path';
import { readPairs } from '../../src/data/pairs.js';
import { type BinaryMetrics, evaluatePairs } from '../../src/evaluation/binary-classification.js';
import { loadModel } from '../../src/model/load.js';
import { measurePoints, reliability } from '../../src/evaluation/calibration.js';
import { verdictMetrics } from '../../src/training/fit-verdict.js';
import { OPERATING_POINTS } from '../../src/verdict/operating-points.js';
import { heldOutTestPairs, percentile, report, ROOT, round } from './common.js';

const SHARED = resolve(ROOT, '../shared/data/qqp-pairs');
const held = await heldOutTestPairs();

if (!held) {
  process.stderr.write('[bench quality] ../shared/data/qqp-pairs is missing (or the model records no test split): no held-out pairs, nothing reported\n');
} else {
  const { pairs: paws } = await readPairs(join(SHARED, 'paws-qqp-adversarial.tsv'));
  const model = await loadModel();
  const metrics = (m: BinaryMetrics) => ({ accuracy: round(m.accuracy, 3), f1: round(m.f1, 3), averagePrecision: round(m.averagePrecision, 3), precision: round(m.precision, 3), recall: round(m.recall, 3) });
  for (const [name, set, what] of [
    ['test', held.pairs, `the bundled model's test split: question clusters no stage was fit on (seed ${held.split.seed}, ${held.split.testFraction} of the pairs)`],
    ['PAWS-QQP', paws, 'adversarial word-swap pairs built from QQP questions'],
  ] as const) {
    const { energies, metrics: energyOnly } = await evaluatePairs(model.classifier.encoder, model.classifier.energy, set, model.threshold);
    const verdict = model.verdict ? verdictMetrics(model.verdict, set, energies) : undefined;
    if (name === 'test') {
      // What a probability and an operating point mean on clusters no stage was fit on.
      const probabilities = set.map((p, i) => model.judge(p.q1, p.q2, energies[i]).probability);
      const labels = set.map((p) => p.label);
      const { ece, bins } = reliability(probabilities, labels);
      report({
        bench: 'quality',
        metric: 'bundled model, test pairs: expected calibration error of the probability',
        value: round(ece, 4),
        unit: 'ECE',
        target: '<= 0.05',
        config: { pairs: set.length, data: what, bins: 10, model: model.id },
        bins: bins.filter((b) => b.pairs > 0).map((b) => ({ from: b.from, pairs: b.pairs, predicted: round(b.predicted, 3), observed: round(b.observed, 3) })),
      });
      const measured = measurePoints(model.operatingPoints, probabilities, labels);
      for (const point of OPERATING_POINTS) {
        const { precision: validPrecision, recall: validRecall } = model.operatingPoints[point];
        const { threshold, precision, recall } = measured[point];
        report({
          bench: 'quality',
          metric: `bundled model, test pairs: operating point ${point}, precision`,
          value: round(precision, 3),
          unit: 'precision',
          config: { pairs: set.length, data: what, threshold: round(threshold, 4), model: model.id },
          recall: round(recall, 3),
          validation: { precision: validPrecision === null ? null : round(validPrecision, 3), recall: validRecall === null ? null : round(validRecall, 3) },
        });
      }
    }
    for (const [stage, m] of [['energy alone', energyOnly], ...(verdict ? [['verdict stage', verdict] as const] : [])] as const) {
      report({
        bench: 'quality',
        metric: `bundled model, ${name} pairs, ${stage}: ROC-AUC`,
        value: round(m.rocAuc, 3),
        unit: 'ROC-AUC',
        config: { pairs: set.length, data: what, stage, model: model.id },
        ...metrics(m),
      });
    }
  }
  if (model.verdict) {
    // Each query is new (analysed once), its 10 candidates are stored questions (analysed before).
    const texts = held.pairs.flatMap((p) => [p.q1, p.q2]);
    const candidates = texts.slice(0, 10);
    for (const c of candidates) model.verdict.analysis(c);
    const times: number[] = [];
    for (let i = 10; i < Math.min(texts.length, 2010); i++) {
      const started = process.hrtime.bigint();
      for (const c of candidates) model.judge(texts[i], c, 0.3);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((x, y) => x - y);
    report({
      bench: 'quality',
      metric: 'verdict stage for 10 candidates, p99',
      value: round(percentile(times, 99), 3),
      unit: 'ms',
      config: { candidates: 10, queries: times.length, note: 'features, trees, word alignment, cross-attention and regression for one new query against 10 stored questions; encoding not included' },
      p50: round(percentile(times, 50), 3),
    });
  }
  model.dispose();
}
