import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { QuestionStore } from '../src/search/directory/store.js';
import { doppel, doppelFails, SAMPLE_PAIRS, tempDir, TINY_TRAINING } from './helpers.js';

const TINY = TINY_TRAINING;

describe('doppel train / eval / score (integration, tiny model on the sample)', () => {
  test('training lowers the loss, beats chance on held-out clusters, and writes a loadable model', async (t) => {
    const out = join(tempDir((fn) => t.after(fn)), 'model');
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', out, '--epochs', '3', ...TINY]);
    for (const f of ['config.json', 'tokenizer.json', 'weights.bin', 'weights.json', 'calibration.json', 'verdict.json', 'training.json', 'report.json', 'report.html']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const losses = report.history.map((h: { trainLoss: number }) => h.trainLoss);
    assert.equal(losses.length, 3);
    assert.ok(losses[2] < losses[0], `loss falls: ${losses}`);
    assert.ok(report.validation.rocAuc > 0.6, `held-out ROC-AUC ${report.validation.rocAuc} beats chance by a margin`);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<svg[\s\S]*ROC curve/);
    const training = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8'));
    assert.equal(training.data[0].sha256.length, 64);
    assert.equal(training.backend, 'wasm');
    assert.ok(training.split.test > 0 && training.verdict.test.verdict.pairs === training.split.test, 'the verdict is measured on the test split');

    const { stdout } = await doppel(['eval', '--model', out, '--pairs', SAMPLE_PAIRS, '--json']);
    const metrics = JSON.parse(stdout);
    const keys = ['pairs', 'accuracy', 'f1', 'precision', 'recall', 'rocAuc', 'averagePrecision', 'threshold'];
    assert.deepEqual(Object.keys(metrics), [...keys, 'decidedBy', 'energyOnly', 'operatingPoints', 'calibration']);
    assert.deepEqual(Object.keys(metrics.operatingPoints), ['precise', 'balanced', 'recall']);
    assert.ok(metrics.calibration.ece >= 0 && metrics.calibration.ece < 1);
    assert.equal(metrics.decidedBy, 'verdict');
    assert.deepEqual(Object.keys(metrics.energyOnly), keys);
    assert.equal(metrics.pairs, 2000);
    assert.equal(stdout.trim().split('\n').length, 1, 'exactly one JSON object on stdout');

    const score = JSON.parse((await doppel(['score', '--model', out, 'How do I learn Python?', 'How do I learn Python?', '--json'])).stdout);
    assert.ok(score.energy < 1e-3 && score.isDuplicate === true && score.probability > 0.5);

    // Resume continues from the checkpoint instead of starting over.
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', out, '--resume', '--epochs', '4', ...TINY]);
    const resumed = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(resumed.history.length, 4);
    assert.deepEqual(resumed.history.slice(0, 3).map((h: { trainLoss: number }) => h.trainLoss), losses);
  });

  test('--feedback adds the verdicts stored in a store to the training pairs', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const store = new QuestionStore(join(dir, 'store'));
    store.addFeedback({ a: 'How do I reset my password?', b: 'I forgot my password, what now?', isDuplicate: true });
    store.addFeedback({ a: 'How do I reset my password?', b: 'How do I delete my account?', isDuplicate: false });
    await store.close();
    const out = join(dir, 'model');
    // Also the reference-style options: PyTorch-style LSTM init, no gradient clipping, no dropout.
    const { stderr } = await doppel(['train', '--train', SAMPLE_PAIRS, '--out', out, '--epochs', '1', '--feedback', join(dir, 'store'), ...TINY, '--lstm-init', 'uniform', '--clip-norm', '0', '--dropout', '0']);
    assert.match(stderr, /feedback: 2 labelled pairs/);
    assert.match(stderr, /"clipNorm":0,"dropout":0/);
    const training = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8'));
    assert.deepEqual(training.data.find((d: { role: string }) => d.role === 'feedback')?.pairs, 2);
  });

  test('fit-verdict adds the verdict stage to a model trained without one; score --explain says why', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const out = join(dir, 'model');
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', out, '--epochs', '1', '--no-verdict', ...TINY, '--pooling', 'max']);
    assert.ok(!existsSync(join(out, 'verdict.json')));
    assert.equal(JSON.parse((await doppel(['eval', '--model', out, '--pairs', SAMPLE_PAIRS, '--json'])).stdout).decidedBy, 'energy');
    const { stderr } = await doppel(['fit-verdict', '--model', out, '--train', SAMPLE_PAIRS]);
    assert.match(stderr, /test \(\d+ pairs no stage was fit on\): energy alone .*; verdict /);
    assert.ok(existsSync(join(out, 'verdict.json')));
    assert.ok(JSON.parse(readFileSync(join(out, 'training.json'), 'utf8')).verdict.test.verdict.rocAuc > 0.5);
    const why = JSON.parse((await doppel(['score', '--model', out, '--explain', '--json', 'How do I learn Python fast?', 'How can I learn Python quickly?'])).stdout);
    assert.equal(why.decision.decidedBy, 'verdict');
    assert.equal(typeof why.summary, 'string');
    assert.ok(why.alignment.pairs.some((p: { a: string; b: string }) => p.a === 'python' && p.b === 'python'));
    const logOdds = Math.log(why.probability / (1 - why.probability));
    const sum = why.baseline + why.reasons.reduce((s: number, r: { contribution: number }) => s + r.contribution, 0);
    assert.ok(Math.abs(sum - logOdds) < 1e-6, `reasons add up to the verdict: ${sum} vs ${logOdds}`);
    const e = await doppelFails(['fit-verdict', '--model', out, '--train', join(dir, 'nope.tsv')]);
    assert.match(e.stderr, /no such file/);
    // A verdict fit on other inputs than this version computes is refused, not misread: here, one
    // written before the cross-attention model.
    const verdictPath = join(out, 'verdict.json');
    const stale = JSON.parse(readFileSync(verdictPath, 'utf8'));
    stale.stack.names = stale.stack.names.filter((n: string) => n !== 'cross_attention_logit');
    delete stale.crossAttention;
    writeFileSync(verdictPath, JSON.stringify(stale));
    assert.match((await doppelFails(['score', '--model', out, 'a', 'b'])).stderr, /refit it with doppel fit-verdict/);
    // ... and fit-verdict, which does not read it, mends it.
    await doppel(['fit-verdict', '--model', out, '--train', SAMPLE_PAIRS]);
    assert.match((await doppel(['score', '--model', out, 'How do I learn Python?', 'How can I learn Python?'])).stdout, /\(verdict; duplicate at >= /);
    // Damaged cross-attention weights are named, not a stack trace.
    const fresh = JSON.parse(readFileSync(verdictPath, 'utf8'));
    fresh.crossAttention.weights.head1.values = fresh.crossAttention.weights.head1.values.slice(0, 40);
    writeFileSync(verdictPath, JSON.stringify(fresh));
    const damaged = await doppelFails(['score', '--model', out, 'a', 'b']);
    assert.match(damaged.stderr, /verdict\.json: cross-attention weight head1 holds 30 bytes/);
    assert.doesNotMatch(damaged.stderr, /\n\s+at /, 'no stack trace');
  });

  test('bad input gives a clear message and a non-zero exit', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const bad = join(dir, 'bad.tsv');
    writeFileSync(bad, 'question1\tquestion2\tis_duplicate\na\tb\t7\n');
    const e1 = await doppelFails(['train', '--train', bad, '--out', join(dir, 'm')]);
    assert.equal(e1.code, 2);
    assert.match(e1.stderr, /bad.tsv:2: is_duplicate must be 0 or 1/);
    const e2 = await doppelFails(['eval', '--pairs', join(dir, 'nope.tsv'), '--json']);
    assert.match(e2.stderr, /no such file/);
    const e3 = await doppelFails(['score', '', 'x']);
    assert.match(e3.stderr, /non-empty/);
    const e4 = await doppelFails(['train', '--train', SAMPLE_PAIRS, '--out', join(dir, 'm'), '--epochs', 'many']);
    assert.match(e4.stderr, /--epochs/);
    const e5 = await doppelFails(['eval', '--model', dir, '--pairs', SAMPLE_PAIRS]);
    assert.match(e5.stderr, /not a Doppel model directory/);
  });
});
