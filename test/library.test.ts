/**
 * The library without the CLI: everything here comes from the package entry (src/index.ts), as an
 * application that depends on Doppel would use it. Trains a tiny model, loads it, keeps a store,
 * imports and de-duplicates files, evaluates, and serves HTTP.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import {
  dedupFile,
  type DedupRow,
  DuplicateIndex,
  evaluatePairs,
  importQuestions,
  loadModel,
  type Model,
  type ModelDirectory,
  readPairs,
  splitForTraining,
  startServer,
  train,
  TRAIN_DEFAULTS,
} from '../src/index.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SAMPLE_PAIRS = join(ROOT, 'data/sample/pairs.tsv');
const SAMPLE_QUESTIONS = join(ROOT, 'data/sample/questions.tsv');

/** test/train-cli.test.ts's tiny network, as options. */
const TINY = { preset: 'seed', embeddingDim: 32, hidden: 32, batchSize: 32, lr: 0.003, validFraction: 0.2, seed: 1 } as const;

describe('the library, through src/index.ts only', () => {
  let dir: string;
  let trained: ModelDirectory;
  let model: Model;
  const logs: string[] = [];
  const epochs: number[] = [];
  let batches = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'doppel-library-'));
    trained = await train(
      { train: SAMPLE_PAIRS, out: join(dir, 'model'), epochs: 1, ...TINY },
      { log: (m) => logs.push(m), onProgress: () => batches++, onEpoch: (report) => epochs.push(report.epoch) },
    );
    model = await loadModel(trained.dir);
  });
  after(() => {
    model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('train() writes a whole model directory and says what it wrote', () => {
    assert.equal(trained.dir, join(dir, 'model'));
    for (const f of ['config.json', 'tokenizer.json', 'weights.bin', 'calibration.json', 'training.json', 'model.onnx']) assert.ok(existsSync(join(trained.dir, f)), `${f} written`);
    for (const path of [trained.report.json, trained.report.html, trained.onnx.path, join(trained.checkpoint, 'checkpoint.json')]) assert.ok(existsSync(path), `${path} written`);
    assert.equal(trained.config.hiddenUnits, 32);
    assert.equal(trained.config.energy, 'euclidean', 'the seed preset');
    assert.deepEqual([trained.epochs, trained.bestEpoch, trained.history.length], [1, 1, 1]);
    assert.deepEqual(epochs, [1]);
    assert.ok(batches > 0);
    assert.equal(JSON.parse(readFileSync(join(trained.dir, 'calibration.json'), 'utf8')).threshold, trained.calibration.threshold);
    assert.equal(JSON.parse(readFileSync(trained.report.json, 'utf8')).validation.rocAuc, trained.validation.rocAuc);
    assert.ok(trained.validation.rocAuc > 0.5, `validation ROC-AUC ${trained.validation.rocAuc}`);
    assert.ok(logs.some((m) => m.startsWith('training pairs: ')));
    assert.ok(logs.some((m) => m.startsWith('epoch 1: loss ')));
    assert.ok(logs.some((m) => m.startsWith('kept epoch 1: ')));
  });

  test('bad options are refused before any work', async () => {
    await assert.rejects(train({ train: SAMPLE_PAIRS, out: join(dir, 'bad'), epochs: 0 }), /invalid training options: epochs/);
    await assert.rejects(train({ train: SAMPLE_PAIRS, out: join(dir, 'no', 'such', 'model') }), /does not exist/);
    assert.ok(!existsSync(join(dir, 'bad')));
  });

  test('the trained model loads, scores, and evaluates as train() reported', async () => {
    assert.equal(model.id, trained.modelId);
    assert.equal(model.threshold, trained.calibration.threshold);
    const same = await model.scorePair('How do I learn Python?', 'How do I learn Python?');
    assert.ok(same.energy < 1e-3 && same.isDuplicate);
    // The validation split train() made, evaluated again with the loaded model.
    const { valid } = splitForTraining((await readPairs(SAMPLE_PAIRS)).pairs, { validFraction: TINY.validFraction, testFraction: TRAIN_DEFAULTS.testFraction, seed: TINY.seed });
    const { metrics } = await evaluatePairs(model.encoder, model.energy, valid, model.threshold);
    assert.equal(metrics.pairs, trained.validation.pairs);
    assert.ok(Math.abs(metrics.rocAuc - trained.validation.rocAuc) < 1e-3, `${metrics.rocAuc} vs ${trained.validation.rocAuc}`);
  });

  test('a store: add, search, remove, import a file; dedup a file; serve /healthz', async () => {
    const questions = readFileSync(SAMPLE_QUESTIONS, 'utf8').trim().split('\n');
    const small = join(dir, 'questions.tsv');
    writeFileSync(small, [questions[0], ...questions.slice(1, 101), 'x1\tHow do I learn Python?', 'x2\thow do I learn python'].join('\n') + '\n');

    const index = await DuplicateIndex.open(join(dir, 'store'), { model });
    let closed = false;
    try {
      const [stored] = await index.add([{ id: 'p1', text: 'How do I learn Python?', category: 'code' }]);
      assert.equal(stored.id, 'p1');
      const [hit] = await index.search('How do I learn Python?', { mode: 'dense', k: 1 });
      assert.equal(hit.id, 'p1');
      assert.ok(hit.isDuplicate);
      await index.remove('p1');
      assert.equal((await index.get('p1')), undefined);
      assert.deepEqual(await index.search('How do I learn Python?', { mode: 'dense', k: 1 }), []);

      const imported = await importQuestions(index, small);
      assert.equal(imported.added, 102);
      assert.equal((await index.stats()).questions, 102);

      const rows: DedupRow[] = [];
      const summary = await dedupFile(small, { model, k: 5, clustering: 'community', minClusterSize: 2, strict: true }, (row) => void rows.push(row));
      assert.equal(summary.questions, 102);
      assert.equal(summary.exactDuplicates, 1, 'x1 and x2 are one question');
      const group = (id: string) => rows.find((r) => r.record.id === id)?.clusterId;
      assert.ok(group('x1') !== undefined && group('x1') === group('x2'));

      const server = await startServer(index, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), version: 'test' });
      try {
        const res = await fetch(new URL('healthz', server.url));
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { status: 'ok', questions: 102, model: model.id, encoder: model.encoder.runtime });
      } finally {
        await server.close(); // closes the index too
        closed = true;
      }
    } finally {
      if (!closed) await index.close();
    }
  });
});
