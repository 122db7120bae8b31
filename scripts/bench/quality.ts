/**
 * Quality of the bundled model on pairs it did not train on: the validation split of its own
 * training run (the same cluster split, rebuilt from the seed its training.json records) and the
 * PAWS-QQP adversarial pairs. Needs ../shared/data/qqp-pairs (the bundled model's training data):
 * the sample's own split would not be held out from that model, so without it nothing is reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readPairs } from '../../src/data/pairs.js';
import { splitByCluster } from '../../src/data/split.js';
import { evaluatePairs } from '../../src/evaluation/binary-classification.js';
import { loadModel } from '../../src/model/load.js';
import { defaultModelDir } from '../../src/model/model-dir.js';
import { report, ROOT, round } from './common.js';

const SHARED = resolve(ROOT, '../shared/data/qqp-pairs');

if (!existsSync(join(SHARED, 'pairs.tsv'))) {
  process.stderr.write('[bench quality] ../shared/data/qqp-pairs is missing: no held-out pairs for the bundled model, nothing reported\n');
} else {
  const training = JSON.parse(readFileSync(join(defaultModelDir(), 'training.json'), 'utf8')) as { settings: { seed: number }; bestEpoch: number };
  const { pairs } = await readPairs(join(SHARED, 'pairs.tsv'));
  const { valid } = splitByCluster(pairs, 0.1, training.settings.seed);
  const { pairs: paws } = await readPairs(join(SHARED, 'paws-qqp-adversarial.tsv'));
  const model = await loadModel();
  for (const [name, set, what] of [
    ['validation', valid, `the bundled model's validation split: question clusters held out of its training (seed ${training.settings.seed})`],
    ['PAWS-QQP', paws, 'adversarial word-swap pairs built from QQP questions'],
  ] as const) {
    const { metrics: m } = await evaluatePairs(model.encoder, model.energy, set, model.threshold);
    report({
      bench: 'quality',
      metric: `bundled model, ${name} pairs: ROC-AUC`,
      value: round(m.rocAuc, 3),
      unit: 'ROC-AUC',
      config: { pairs: set.length, data: what, threshold: round(model.threshold, 4), model: model.id },
      accuracy: round(m.accuracy, 3),
      f1: round(m.f1, 3),
      averagePrecision: round(m.averagePrecision, 3),
    });
  }
  model.dispose();
}
