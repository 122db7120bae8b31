import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { precisionRecallAt, reliability } from '../src/evaluation/calibration.js';
import { summarize } from '../src/model/explanation.js';
import { chooseOperatingPoints } from '../src/training/operating-points.js';

describe('operating points', () => {
  // Ten pairs, highest probability first: duplicates at ranks 1, 2, 3, 5, 7 and 9.
  const probabilities = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
  const labels = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0];

  test('precise: the lowest threshold with precision >= 0.90; recall: the highest with recall >= 0.90; balanced: best F1', () => {
    const points = chooseOperatingPoints(probabilities, labels);
    // p >= 0.85 flags three, all duplicates (precision 1); p >= 0.8 brings a non-duplicate (0.75).
    assert.deepEqual(points.precise, { threshold: 0.85, precision: 1, recall: 0.5 });
    // Recall reaches 0.9 only with the last of the six duplicates.
    assert.equal(points.recall.threshold, 0.3);
    assert.equal(points.recall.recall, 1);
    const f1 = (p: { precision: number | null; recall: number | null }) => (2 * p.precision! * p.recall!) / (p.precision! + p.recall!);
    for (const t of probabilities) {
      const at = precisionRecallAt(probabilities, labels, t);
      assert.ok(f1(points.balanced) >= f1(at) - 1e-12, `no threshold beats balanced's F1 (at ${t})`);
    }
  });

  test('weights count pairs as the fit does', () => {
    // The only non-duplicate above 0.6 weighs nothing: precise reaches down to it.
    const weights = [1, 1, 1, 0, 1, 1, 1, 1, 1, 1];
    assert.equal(chooseOperatingPoints(probabilities, labels, weights).precise.threshold, 0.7);
  });
});

describe('calibration', () => {
  test('expected calibration error over equal-width bins', () => {
    // Bin 0.9: two pairs predicted 0.9, one duplicate (|0.9 - 0.5| = 0.4); bin 0.1: two predicted 0.1, none (0.1).
    const { ece, bins } = reliability([0.9, 0.9, 0.1, 0.1], [1, 0, 0, 0]);
    assert.ok(Math.abs(ece - (0.5 * 0.4 + 0.5 * 0.1)) < 1e-12);
    assert.deepEqual(
      bins.filter((b) => b.pairs > 0).map((b) => [b.pairs, b.observed]),
      [
        [2, 0],
        [2, 0.5],
      ],
    );
    assert.equal(reliability([0.95, 0.05], [1, 0]).ece < 0.1, true);
  });
});

describe('the plain sentence of an explanation', () => {
  const alignment = (pairs: [string, string, number][]) => ({ wordsA: [], wordsB: [], cosine: 0.5, pairs: pairs.map(([a, b, share]) => ({ a, b, aIndex: 0, bIndex: 0, share })) });

  test('a duplicate: what both ask about, and the different words matched', () => {
    assert.equal(
      summarize('How can I learn Python fast?', 'How do I learn Python quickly?', { isDuplicate: true, alignment: alignment([['fast', 'quickly', 0.1]]) }),
      "Both ask about 'learn' and 'python'; 'fast' matches 'quickly'.",
    );
  });

  test('not a duplicate: what differs, on one side or both', () => {
    assert.equal(summarize('How do I learn Java?', 'How do I learn Python?', { isDuplicate: false }), "Differs: 'java' vs 'python'.");
    assert.equal(summarize('Is coffee bad?', 'Is coffee bad for dogs?', { isDuplicate: false }), "Differs: only the second asks about 'dogs'.");
    assert.equal(summarize('How do I do it?', 'How do I do it?', { isDuplicate: false, rule: 'identical-text' }), 'The same question, once case and punctuation are set aside.');
  });
});
