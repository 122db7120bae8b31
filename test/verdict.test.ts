import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readPairs } from '../src/data/pairs.js';
import { splitForTraining } from '../src/data/split.js';
import { maxAccuracyThreshold } from '../src/evaluation/binary-classification.js';
import { clusterWeights, fitVerdict, verdictMetrics } from '../src/training/fit-verdict.js';
import { fitGbt } from '../src/training/fit-gbt.js';
import { Logistic } from '../src/verdict/logistic.js';
import { STACK_INPUTS, Verdict } from '../src/verdict/verdict.js';
import type { WordVectors } from '../src/verdict/word-vectors.js';
import { words } from '../src/text/verdict-words.js';
import { SAMPLE_PAIRS } from './helpers.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

describe('gradient-boosted trees', () => {
  test('one tree on a separable feature matches the hand-computed Newton step', () => {
    // base = ln((2+1)/(2+1)) = 0, so p = 0.5: g = p - y = (+0.5, +0.5, -0.5, -0.5), h = 0.25 each.
    // Left leaf (x <= 0): G = 1, H = 0.5, value = -G / (H + l2) = -1 / 1.5; the right one +1 / 1.5.
    const rows = [[0], [0], [1], [1]];
    const gbt = fitGbt(rows, [0, 0, 1, 1], { iterations: 1, learningRate: 1, maxLeaves: 2, minLeaf: 1, l2: 1 });
    const [tree] = gbt.json.trees;
    assert.deepEqual(tree.feature, [0, -1, -1]);
    assert.equal(tree.threshold[0], 0);
    close(tree.value[0], 0);
    close(gbt.logit([0]), -1 / 1.5);
    close(gbt.logit([1]), 1 / 1.5);
  });

  test('the split goes to the informative feature, and contributions sum to the logit', () => {
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 200; i++) {
      const y = i % 2;
      rows.push([(i * 37) % 11, y * 5 + ((i * 13) % 3)]);
      labels.push(y);
    }
    const gbt = fitGbt(rows, labels, { iterations: 5, maxLeaves: 2, minLeaf: 5 });
    assert.ok(gbt.json.trees.every((t) => t.feature[0] === 1));
    const x = rows[7];
    const { bias, values } = gbt.contributions(x, 2);
    close(bias + values[0] + values[1], gbt.logit(x), 1e-9);
    assert.equal(values[0], 0);
    assert.ok(values[1] > 0, 'a duplicate-side value pushes the logit up');
  });

  test('early stopping keeps the trees of the best validation loss', () => {
    const rows = Array.from({ length: 300 }, (_, i) => [i % 10, (i * 7) % 13]);
    const labels = rows.map((r, i) => (r[0] > 4 !== (i % 9 === 0) ? 1 : 0));
    const gbt = fitGbt(rows, labels, { iterations: 200, patience: 5 }, { rows: rows.slice(0, 60), labels: labels.slice(0, 60) });
    assert.ok(gbt.trees < 200 && gbt.trees > 0, `${gbt.trees} trees kept`);
  });
});

describe('logistic regression', () => {
  test('without a penalty it finds the maximum-likelihood log-odds', () => {
    // x = 0: 1 duplicate in 4; x = 1: 3 in 4. Standardised, z = -1 / +1, so bias 0 and weight ln 3.
    const rows = [0, 0, 0, 0, 1, 1, 1, 1].map((x) => [x]);
    const lr = Logistic.fit(['x'], rows, [1, 0, 0, 0, 1, 1, 1, 0], { l2: 0 });
    close(lr.json.bias, 0, 1e-6);
    close(lr.json.weights[0], Math.log(3), 1e-6);
    close(1 / (1 + Math.exp(-lr.logit([1]))), 0.75, 1e-6);
  });

  test('a row of weight 2 counts exactly as the row twice', () => {
    const rows = [[0, 1], [1, 0], [2, 2], [3, 1], [1, 1]];
    const labels = [0, 1, 0, 1, 1];
    const weighted = Logistic.fit(['a', 'b'], rows, labels, { l2: 0.5, weights: [1, 2, 1, 1, 1] });
    const doubled = Logistic.fit(['a', 'b'], [...rows, rows[1]], [...labels, labels[1]], { l2: 0.5 });
    const plain = Logistic.fit(['a', 'b'], rows, labels, { l2: 0.5 });
    for (const r of [[0, 0], [2, 1], [3, 3]]) close(weighted.logit(r), doubled.logit(r), 1e-6);
    assert.ok(Math.abs(weighted.logit([1, 0]) - plain.logit([1, 0])) > 0.01, 'the weight changes the fit');
  });
});

describe('cluster weights and weighted thresholds', () => {
  test('each pair weighs 1 / sqrt(pairs in its question cluster)', () => {
    const pairs = [
      { q1: 'How do I learn Go?', q2: 'How to learn Go?', label: 1 as const },
      { q1: 'How to learn Go?', q2: 'Best way to learn Go?', label: 1 as const },
      { q1: 'best way to learn go', q2: 'Go tutorials?', label: 0 as const },
      { q1: 'Go tutorials?', q2: 'Learning Go fast', label: 1 as const },
      { q1: 'What is rust?', q2: 'Is Rust good?', label: 0 as const },
    ];
    // The first four share questions (the third only after normalisation): one cluster of 4.
    assert.deepEqual([...clusterWeights(pairs)], [0.5, 0.5, 0.5, 0.5, 1]);
  });

  test('a heavy pair moves the accuracy-maximising threshold', () => {
    const energies = [0.1, 0.2, 0.3, 0.4];
    const labels = [1, 0, 1, 0];
    // Unweighted, calling only the first a duplicate is right 3 times in 4, the best there is.
    close(maxAccuracyThreshold(energies, labels), 0.15, 1e-9);
    // When the third pair weighs 3, taking the first three in is right 1 + 3 + 1 times out of 6, instead of 1 + 1 + 1.
    close(maxAccuracyThreshold(energies, labels, [1, 1, 3, 1]), 0.35, 1e-9);
  });
});

describe('verdict stage', () => {
  test('words split contractions as CoreNLP does', () => {
    assert.deepEqual(words("Why doesn't it work?"), words('why does n\'t it work ?'));
    assert.deepEqual(words("Why doesn't it work?"), ['why', 'does', 'not', 'it', 'work']);
  });

  test('fits on sample pairs: symmetric, identical texts certain, reasons sum to the log-odds', async () => {
    const { pairs } = await readPairs(SAMPLE_PAIRS);
    const { train, valid } = splitForTraining(pairs, { validFraction: 0.3, testFraction: 0, seed: 3 });
    // A stand-in energy that knows the label a little, as an encoder would.
    const energies = valid.map((p, i) => (p.label ? 0.3 : 0.5) + ((i * 7919) % 100) / 250);
    // Letter-count vectors: words spelt alike are alike, enough to exercise the alignment inputs.
    const vectors: WordVectors = (w) => {
      const v = new Float64Array(26);
      for (const c of w) if (c >= 'a' && c <= 'z') v[c.charCodeAt(0) - 97]++;
      const norm = Math.hypot(...v);
      return norm > 0 ? v.map((x) => x / norm) : undefined;
    };
    const { verdict, trees } = await fitVerdict(train, valid, energies, vectors, { gbt: { iterations: 50 }, crossAttention: { epochs: 2 } });
    assert.ok(trees > 0);
    const v = new Verdict(JSON.parse(JSON.stringify(verdict.json)), vectors);
    const a = 'How do I learn Python quickly?';
    const b = 'What is the fastest way to learn Python?';
    close(v.judge(a, b, 0.3).probability, v.judge(b, a, 0.3).probability, 1e-12);
    assert.deepEqual(v.judge('Is it safe?', 'is it  safe', 0.9), { probability: 1, isDuplicate: true, decidedBy: 'verdict' });
    const e = v.explain(a, b, 0.3);
    const logit = Math.log(e.probability / (1 - e.probability));
    close(e.baseline + e.reasons.reduce((s, r) => s + r.contribution, 0), logit, 1e-6);
    assert.equal(e.reasons.length, STACK_INPUTS.length - 1, 'every input but the trees\' logit, which is split onto the features');
    assert.ok(!v.applies('???', 'How do I learn Python?'), 'a text with no word leaves the decision to the energy');
    const m = verdictMetrics(v, valid, energies);
    assert.ok(m.rocAuc > 0.5, `verdict ROC-AUC on its own fit pairs ${m.rocAuc}`);
  });
});
