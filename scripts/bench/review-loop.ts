/**
 * The moderation loop, played with held-out labels: the medical question pairs (doctor-written,
 * out of domain, never trained on) split by original question into a review half and a test
 * half. A simulated moderator answers the review half 100 pairs at a time, in the review queue's
 * order (reviewPriority under the model refit so far) and, for comparison, in random order
 * (three seeds, averaged); after each batch the verdict's stack is refit (refitStack, what
 * `doppel fit-verdict --feedback` runs) and measured on the test half. Writes the curves to
 * docs/review-loop.svg. Then times the real command: `doppel fit-verdict --feedback` on a
 * directory store holding 1,000 reviewed pairs.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pair } from '../../src/data/pairs.js';
import { readPairs } from '../../src/data/pairs.js';
import { splitByCluster, splitForTraining } from '../../src/data/split.js';
import { pairEnergies } from '../../src/evaluation/binary-classification.js';
import { loadModel } from '../../src/model/load.js';
import { defaultModelDir } from '../../src/model/model-dir.js';
import { openIndex } from '../../src/search/stores.js';
import { reviewPriority } from '../../src/search/review.js';
import { refitStack, reviewedMetrics, stackProbability, stackRows } from '../../src/training/refit-stack.js';
import { lineChart } from '../../src/training/report/svg.js';
import { Random } from '../../src/util/random.js';
import { DEFAULT_OPERATING_POINT } from '../../src/verdict/operating-points.js';
import { Logistic } from '../../src/verdict/logistic.js';
import { bundledSplit, medicalPairs, pairsFile, report, ROOT, round } from './common.js';

const BATCH = 100;
const RANDOM_SEEDS = [1, 2, 3];
const CLI = join(ROOT, 'dist/src/cli/main.js');

const medical = await medicalPairs();
const { path: qqpPath, dataset } = pairsFile();
if (!medical || !dataset.startsWith('qqp-pairs')) {
  process.stderr.write('review-loop: needs ../shared (medical question pairs and the Quora pairs the stack was fit on); skipped\n');
  process.exit(0);
}
const model = await loadModel(defaultModelDir());
const verdict = model.verdict!;
const split = bundledSplit();
const { valid } = splitForTraining((await readPairs(qqpPath)).pairs, split);
const { train: reviewHalf, valid: testHalf } = splitByCluster(medical, 0.5, 42);

const rowsOf = async (pairs: Pair[]) => stackRows(verdict, pairs, (await pairEnergies(model.classifier.encoder, model.classifier.energy, pairs)).energies);
const validRows = await rowsOf(valid);
const review = await rowsOf(reviewHalf);
const test = await rowsOf(testHalf);
const testLabels = testHalf.map((p) => p.label);

/** The test half under a stack and its default operating point. */
const testMetrics = (stack: Logistic, threshold: number) => reviewedMetrics(testHalf.map((_, i) => stackProbability(stack, test, i)), testLabels, threshold);
const bundledStack = new Logistic(verdict.json.stack);
const bundledThreshold = model.operatingPoints[DEFAULT_OPERATING_POINT].threshold;
const bundled = testMetrics(bundledStack, bundledThreshold);

/** Test accuracy after each batch, answering the review half in the order `next` picks. */
function play(next: (remaining: number[], stack: Logistic, threshold: number) => number[]): [number, number][] {
  const curve: [number, number][] = [[0, bundled.accuracy]];
  let remaining = reviewHalf.map((_, i) => i);
  const reviewed: number[] = [];
  let stack = bundledStack;
  let threshold = bundledThreshold;
  while (remaining.length > 0) {
    const batch = next(remaining, stack, threshold).slice(0, BATCH);
    const taken = new Set(batch);
    reviewed.push(...batch);
    remaining = remaining.filter((i) => !taken.has(i));
    const refit = refitStack(verdict.json, validRows, { pairs: reviewed.map((i) => review.pairs[i]), rows: reviewed.map((i) => review.rows[i]), identical: reviewed.map((i) => review.identical[i]) });
    stack = new Logistic(refit.verdict.stack);
    threshold = refit.verdict.operatingPoints![DEFAULT_OPERATING_POINT].threshold;
    curve.push([reviewed.length, testMetrics(stack, threshold).accuracy]);
  }
  return curve;
}

const started = Date.now();
const queue = play((remaining, stack, threshold) =>
  remaining
    .map((i) => ({ i, priority: reviewPriority(stackProbability(stack, review, i), threshold) }))
    .sort((x, y) => x.priority - y.priority)
    .map((x) => x.i),
);
const randomCurves = RANDOM_SEEDS.map((seed) => {
  const order = new Random(seed).shuffle(reviewHalf.map((_, i) => i));
  return play((remaining) => {
    const left = new Set(remaining);
    return order.filter((i) => left.has(i));
  });
});
const random: [number, number][] = randomCurves[0].map(([n], k) => [n, randomCurves.reduce((s, c) => s + c[k][1], 0) / randomCurves.length]);
const simulatedSeconds = (Date.now() - started) / 1000;

const at = (curve: [number, number][], reviews: number) => curve.find(([n]) => n >= reviews)![1];
// Fewest reviews after which the queue's curve stays at or above the random order's accuracy at 1,000.
const randomAt1000 = at(random, 1000);
const queueReaches = queue.find(([n], k) => queue.slice(k).every(([, a]) => a >= randomAt1000) && n > 0)?.[0] ?? null;

const svg = lineChart(
  `Medical question pairs, test half (${testHalf.length} pairs never reviewed): accuracy at the '${DEFAULT_OPERATING_POINT}' point against moderator reviews`,
  'reviewed pairs (the other half)',
  [
    { name: 'review queue order', color: '#1f6feb', points: queue.map(([n, a]) => [n, round(a, 4)]) },
    { name: `random order (mean of ${RANDOM_SEEDS.length})`, color: '#d1242f', points: random.map(([n, a]) => [n, round(a, 4)]) },
  ],
);
writeFileSync(join(ROOT, 'docs/review-loop.svg'), svg.replace(/^<figure><figcaption>.*?<\/figcaption>/, '').replace(/<\/figure>$/, '') + '\n');

const config = {
  data: 'medical-question-pairs (../shared), split by original question (seed 42)',
  reviewHalf: reviewHalf.length,
  testHalf: testHalf.length,
  batch: BATCH,
  operatingPoint: DEFAULT_OPERATING_POINT,
  validationPairs: valid.length,
};
report({
  bench: 'review-loop',
  metric: 'medical test half: accuracy gain of the refit model after 1,000 reviews in queue order, over the bundled model',
  value: round(at(queue, 1000) - bundled.accuracy, 4),
  unit: 'accuracy',
  target: '>= 0.08',
  config,
  bundled: round(bundled.accuracy, 4),
  queueAt1000: round(at(queue, 1000), 4),
  randomAt1000: round(randomAt1000, 4),
  queueCurve: queue.map(([n, a]) => [n, round(a, 4)]),
  randomCurve: random.map(([n, a]) => [n, round(a, 4)]),
  simulatedSeconds: round(simulatedSeconds, 1),
});
report({
  bench: 'review-loop',
  metric: "reviews the queue's order needs to reach the random order's accuracy at 1,000 reviews",
  value: queueReaches ?? -1,
  unit: 'reviews',
  target: '< 1000',
  config,
});

// The real command, timed: a store holding 1,000 reviewed pairs, refit on a copy of the bundled model.
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-review-'));
try {
  const store = join(dir, 'store');
  const index = await openIndex(store, { model });
  for (const p of reviewHalf.slice(0, 1000)) await index.feedback({ a: p.q1, b: p.q2, isDuplicate: p.label === 1 });
  await index.close();
  const out = join(dir, 'model');
  cpSync(defaultModelDir(), out, { recursive: true });
  const t0 = Date.now();
  execFileSync(process.execPath, [CLI, 'fit-verdict', '--model', out, '--train', qqpPath, '--feedback', store, '--force'], { stdio: ['ignore', 'ignore', 'inherit'] });
  report({
    bench: 'review-loop',
    metric: 'doppel fit-verdict --feedback on 1,000 reviewed pairs (wall time, whole command)',
    value: round((Date.now() - t0) / 1000, 1),
    unit: 's',
    target: '< 300',
    config: { store: 'directory', reviewed: 1000, validationPairs: valid.length },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
model.dispose();
