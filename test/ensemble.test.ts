import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cosine } from '../src/encoder/energies/cosine.js';
import { loadModel, type Model } from '../src/model/load.js';
import { openIndex } from '../src/search/stores.js';
import { doppel, doppelFails, SAMPLE_PAIRS, tempDir, TINY_TRAINING, TOPICS } from './helpers.js';

const TINY = [...TINY_TRAINING, '--epochs', '1', '--energy', 'cosine', '--pooling', 'max'];

describe('doppel ensemble: a classifier tower and a retriever tower in one model', () => {
  const dir = tempDir((fn) => after(fn));
  const texts = ['How do I learn Python fast?', 'How can I learn Python quickly?', 'What is the capital of France?', 'Which city is the capital of France?'];

  before(async () => {
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', join(dir, 'classifier'), ...TINY]);
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', join(dir, 'retriever'), '--ranking-every', '1', '--no-verdict', ...TINY]);
    await doppel(['ensemble', '--classifier', join(dir, 'classifier'), '--retriever', join(dir, 'retriever'), '--out', join(dir, 'ensemble'), '--classifier-weight', '0.25']);
  });

  const withModels = async (use: (e: Model, c: Model, r: Model) => Promise<void>) => {
    // One at a time: the tfjs backend initialises once.
    const e = await loadModel(join(dir, 'ensemble'), { runtime: 'tfjs', backend: 'wasm' });
    const c = await loadModel(join(dir, 'classifier'), { runtime: 'tfjs', backend: 'wasm' });
    const r = await loadModel(join(dir, 'retriever'), { runtime: 'tfjs', backend: 'wasm' });
    try {
      await use(e, c, r);
    } finally {
      for (const m of [e, c, r]) m.dispose();
    }
  };

  test('the index energy is the blend of both towers; decisions are the classifier tower alone', async () => {
    await withModels(async (e, c, r) => {
      assert.equal(e.encoder.dim, c.encoder.dim + r.encoder.dim);
      assert.notEqual(e.id, c.id);
      const [ve, vc, vr] = await Promise.all([e.encoder.encode(texts), c.encoder.encode(texts), r.encoder.encode(texts)]);
      const row = (v: Float32Array, dim: number, i: number) => v.subarray(i * dim, (i + 1) * dim);
      for (const [i, j] of [[0, 1], [0, 2], [2, 3]]) {
        const ec = cosine.vectors(row(vc, c.encoder.dim, i), row(vc, c.encoder.dim, j));
        const er = cosine.vectors(row(vr, r.encoder.dim, i), row(vr, r.encoder.dim, j));
        const blended = e.energy.vectors(row(ve, e.encoder.dim, i), row(ve, e.encoder.dim, j));
        assert.ok(Math.abs(blended - (0.25 * ec + 0.75 * er)) < 1e-5, `blend ${blended} vs ${0.25 * ec + 0.75 * er}`);
        assert.ok(Math.abs(e.decisionEnergy!(row(ve, e.encoder.dim, i), row(ve, e.encoder.dim, j)) - ec) < 1e-5);
      }
      assert.equal(c.decisionEnergy, undefined, 'a single tower decides with its index energy');
      const [se, sc] = await Promise.all([e.scorePair(texts[0], texts[1]), c.scorePair(texts[0], texts[1])]);
      assert.deepEqual(se, sc);
      assert.equal(se.decision.decidedBy, 'verdict', "the classifier's verdict stage decides for the ensemble");
    });
  });

  test('a store finds candidates by the blend and reports the classifier energy and verdict of each hit, in its order', async (t) => {
    const store = join(tempDir((fn) => t.after(fn)), 'store');
    await withModels(async (e, c) => {
      const index = await openIndex(store, { model: e });
      try {
        await index.add([...TOPICS, { id: 'p1', text: texts[1] }, { id: 'f1', text: texts[3] }]);
        // The blend picks the candidates (here all 7 stored); the classifier's verdict orders them.
        const hits = await index.search(texts[0], { k: 7, mode: 'dense' });
        assert.equal(hits.length, 7);
        const probabilities = hits.map((h) => h.probability);
        assert.deepEqual(probabilities, [...probabilities].sort((a, b) => b - a), 'hits come in order of the verdict');
        // Lexical-only candidates of a hybrid search, and a category's exact scan, reach hits by other paths.
        for (const options of [{ mode: 'dense' }, { mode: 'hybrid' }, { mode: 'lexical' }, { mode: 'hybrid', category: 'music' }] as const) {
          const found = await index.search(texts[0], { k: 7, ...options });
          assert.ok(found.length > 0);
          for (const h of found) {
            const scored = await c.scorePair(texts[0], h.text);
            assert.ok(Math.abs(h.energy - scored.energy) < 1e-5, `${options.mode} ${h.id}: energy ${h.energy} is the classifier's ${scored.energy}`);
            assert.ok(Math.abs(h.probability - scored.probability) < 1e-5);
          }
        }
      } finally {
        await index.close();
      }
    });
  });

  test('export writes both towers; bad blends are refused with a reason', async (t) => {
    await doppel(['export', '--model', join(dir, 'ensemble')]);
    for (const f of ['model.onnx', 'retriever/model.onnx']) assert.ok(existsSync(join(dir, 'ensemble', f)), f);
    const tfjs = await loadModel(join(dir, 'ensemble'), { runtime: 'tfjs', backend: 'wasm' });
    const onnx = await loadModel(join(dir, 'ensemble'), { runtime: 'onnx' });
    try {
      const [a, b] = await Promise.all([onnx.encoder.encode(texts), tfjs.encoder.encode(texts)]);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `ONNX and tfjs agree at ${i}`);
    } finally {
      onnx.dispose();
      tfjs.dispose();
    }

    const out = join(tempDir((fn) => t.after(fn)), 'e');
    const base = ['ensemble', '--classifier', join(dir, 'classifier'), '--retriever', join(dir, 'retriever'), '--out', out];
    assert.match((await doppelFails([...base, '--classifier-weight', '1.5'])).stderr, /between 0 and 1/);
    assert.match((await doppelFails(['ensemble', '--classifier', join(dir, 'classifier'), '--retriever', join(dir, 'ensemble'), '--out', out])).stderr, /already an ensemble/);
    assert.match((await doppelFails(['ensemble', '--classifier', join(dir, 'classifier'), '--retriever', join(dir, 'retriever'), '--out', join(dir, 'classifier')])).stderr, /new directory/);
    // A retriever trained on another split may have learnt the classifier's held-out questions.
    const training = join(dir, 'retriever', 'training.json');
    const record = readFileSync(training, 'utf8');
    writeFileSync(training, JSON.stringify({ ...JSON.parse(record), split: { ...JSON.parse(record).split, seed: 2 } }));
    try {
      const e = await doppelFails(base);
      assert.equal(e.code, 2);
      assert.match(e.stderr, /different .*splits/);
      assert.ok(!existsSync(out), 'nothing is written');
    } finally {
      writeFileSync(training, record);
    }
  });
});
