import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { Pair } from '../src/data/pairs.js';
import { CROSS_ATTENTION_MAX_WORDS, CROSS_ATTENTION_PARAMS, CrossAttention, CrossAttentionJsonSchema, crossAttentionWords } from '../src/verdict/cross-attention.js';
import { crossAttentionGraph, type CrossAttentionFit, fitCrossAttention, makeBatch } from '../src/training/fit-cross-attention.js';
import type { WordVectors } from '../src/verdict/word-vectors.js';
import { words } from '../src/text/verdict-words.js';
import { Random } from '../src/util/random.js';

/**
 * A task only cross-attention solves well: 40 concepts, each spelt two ways ("c7a", "c7b") with
 * nearly the same vector. A duplicate asks about the same four concepts in another order and
 * spelling; a non-duplicate shares two of them.
 */
function synonymTask(count: number, random: Random): Pair[] {
  const pick = () => Array.from({ length: 4 }, () => random.int(40));
  const say = (concepts: number[]) => random.shuffle(concepts.map((c) => `c${c}${random.next() < 0.5 ? 'a' : 'b'}`)).join(' ');
  return Array.from({ length: count }, (_, i) => {
    const concepts = pick();
    const label = (i % 2) as 0 | 1;
    const other = label ? concepts : [concepts[0], concepts[1], ...pick().slice(2)];
    return { q1: say(concepts), q2: say(other), label };
  });
}

function synonymVectors(random: Random): WordVectors {
  const concepts = Array.from({ length: 40 }, () => Array.from({ length: 16 }, () => random.normal()));
  const table = new Map<string, Float64Array>();
  concepts.forEach((v, c) => {
    for (const s of ['a', 'b']) table.set(`c${c}${s}`, Float64Array.from(v, (x) => x + 0.1 * random.normal()));
  });
  return (w) => table.get(w);
}

describe('cross-attention model', () => {
  const random = new Random(5);
  const vectors = synonymVectors(random);
  const train = synonymTask(1200, random);
  const valid = synonymTask(300, random);
  let fit: CrossAttentionFit;
  before(async () => {
    fit = await fitCrossAttention(train, valid, vectors, { settings: { epochs: 6, learningRate: 0.005, hidden: 16 } });
  });

  test('learns to align synonyms, and keeps the epoch with the best validation ROC-AUC', () => {
    const best = Math.max(...fit.curve);
    assert.equal(fit.model.json.validRocAuc, best);
    assert.equal(fit.curve[fit.model.json.epoch - 1], best);
    assert.ok(best > 0.9, `validation ROC-AUC ${best} (curve ${fit.curve.map((x) => x.toFixed(3))})`);
  });

  test('is symmetric, and survives JSON', () => {
    const model = new CrossAttention(JSON.parse(JSON.stringify(fit.model.json)), vectors);
    for (const p of valid.slice(0, 20)) {
      const ab = model.logit(words(p.q1), words(p.q2));
      assert.ok(Math.abs(ab - model.logit(words(p.q2), words(p.q1))) < 1e-4);
      assert.equal(ab, fit.model.logit(words(p.q1), words(p.q2)));
    }
    assert.ok(Number.isFinite(model.logit([], ['c1a'])), 'a question with no known word still gets a logit');
  });

  test('the inference code computes what the training graph computes, padding and all', () => {
    const long = Array.from({ length: 45 }, (_, i) => `c${i % 40}${i % 2 ? 'a' : 'b'}`).join(' ');
    const pairs: Pair[] = [
      ...valid.slice(0, 16),
      // Lengths that differ within a batch, words without a vector, a side with none, a question past the word limit.
      { q1: 'c1a what c2b is', q2: 'c3a c1b', label: 1 },
      { q1: 'zzz qqq', q2: 'c1a c2b c3a', label: 0 },
      { q1: long, q2: 'c5a c6b c7a', label: 0 },
      { q1: 'c9a', q2: long, label: 0 },
    ];
    const read = (q: string) => crossAttentionWords(words(q), vectors).words;
    const vocab = [...new Set(pairs.flatMap((p) => [...read(p.q1), ...read(p.q2)]))];
    const table = tf.tensor2d([new Array(16).fill(0), ...vocab.map((w) => Array.from(vectors(w)!))]);
    const ids = (q: string) => read(q).map((w) => vocab.indexOf(w) + 1);
    assert.equal(ids(long).length, CROSS_ATTENTION_MAX_WORDS);
    const batch = makeBatch(
      pairs.map((p) => ids(p.q1)),
      pairs.map((p) => ids(p.q2)),
    );
    const weights = Object.fromEntries(
      Object.entries(CROSS_ATTENTION_PARAMS).map(([key, name]) => {
        const { shape, values } = fit.model.json.weights[name];
        const bytes = Buffer.from(values, 'base64');
        return [key, tf.tensor(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), shape)];
      }),
    ) as Parameters<typeof crossAttentionGraph>[0];
    const graph = crossAttentionGraph(weights, table, batch).arraySync();
    pairs.forEach((p, i) => assert.ok(Math.abs(graph[i] - fit.model.logit(words(p.q1), words(p.q2))) < 1e-3, `pair ${i}: ${graph[i]}`));
    tf.dispose([table, ...Object.values(batch), ...Object.values(weights)]);
  });

  test('validation pairs of one class: the ROC-AUC is recorded as undefined, and the model still loads', async () => {
    const oneClass = valid.filter((p) => p.label === 1).slice(0, 20);
    const { model, curve } = await fitCrossAttention(train.slice(0, 200), oneClass, vectors, { settings: { epochs: 1, patience: 0, hidden: 8 } });
    assert.equal(curve.length, 1);
    assert.equal(model.json.validRocAuc, null);
    assert.ok(CrossAttentionJsonSchema.safeParse(JSON.parse(JSON.stringify(model.json))).success);
  });

  test('a weight of the wrong shape is refused', () => {
    const json = structuredClone(fit.model.json);
    json.weights[CROSS_ATTENTION_PARAMS.head2].shape = [3, 1];
    assert.throws(() => new CrossAttention(json, vectors), /head2 should have shape/);
  });
});
