import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, cpSync, existsSync, fstatSync, openSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { trainCommand } from '../src/cli/commands/train.js';
import { DuplicateIndex } from '../src/search/stores.js';
import { loadModel } from '../src/model/load.js';
import { FILES } from '../src/model/model-dir.js';
import { exportModelDir } from '../src/model/export-onnx.js';
import { AtomicFile, removeStaleTemps, replaceDir, writeFileAtomic } from '../src/util/atomic-write.js';
import { CLI, deadPid, ROOT, SAMPLE_PAIRS, SAMPLE_QUESTIONS, tempDir } from './helpers.js';

const run = promisify(execFile);
const doppel = (args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 16 << 20 });
const fails = (args: string[]) =>
  doppel(args).then(
    () => assert.fail(`doppel ${args.join(' ')} should have failed`),
    (err: { code: number; stderr: string }) => err,
  );

/** Every file under a directory with its sha256, to tell whether anything changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out[prefix + e.name] = createHash('sha256').update(readFileSync(join(d, e.name))).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** Siblings of a path left by a write in progress: `<name>.tmp-*` and `<name>.old-*`. */
const leftovers = (target: string) => readdirSync(dirname(target)).filter((n) => n.startsWith(`${basename(target)}.tmp-`) || n.startsWith(`${basename(target)}.old-`));

async function waitFor(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('atomic writes (util)', () => {
  test('writeFileAtomic replaces a file whole, and leaves nothing behind when it fails', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'a.json');
    writeFileSync(file, 'old');
    const inode = statSync(file).ino;
    await writeFileAtomic(file, 'new');
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.notEqual(statSync(file).ino, inode, 'a new file was renamed in, not the old one rewritten');
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'inside'), { recursive: true });
    await assert.rejects(writeFileAtomic(blocked, 'x'));
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'blocked']);
  });

  test('AtomicFile: abort keeps the old file; commit replaces it', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'rows.tsv');
    writeFileSync(file, 'old\n');
    const a = new AtomicFile(file);
    await a.write('partial\n');
    await a.abort();
    assert.equal(readFileSync(file, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['rows.tsv']);
    const b = new AtomicFile(file);
    await b.write('new\n');
    await b.commit();
    assert.equal(readFileSync(file, 'utf8'), 'new\n');
    assert.deepEqual(readdirSync(dir), ['rows.tsv']);
  });

  test('replaceDir: a failing build leaves the old directory as it was; a good one replaces it whole', async (t) => {
    const root = tempDir((fn) => t.after(fn));
    const target = join(root, 'model');
    mkdirSync(target);
    writeFileSync(join(target, 'weights.bin'), 'old weights');
    writeFileSync(join(target, 'calibration.json'), 'old calibration');
    const before = snapshot(target);
    await assert.rejects(
      replaceDir(target, async (tmp) => {
        writeFileSync(join(tmp, 'weights.bin'), 'new weights');
        throw new Error('crash after the weights');
      }),
      /crash after the weights/,
    );
    assert.deepEqual(snapshot(target), before);
    assert.deepEqual(leftovers(target), []);
    await replaceDir(target, async (tmp) => writeFileSync(join(tmp, 'weights.bin'), 'new weights'));
    assert.deepEqual(readdirSync(target), ['weights.bin'], 'nothing of the old directory is mixed in');
    assert.deepEqual(leftovers(target), []);
  });

  test('removeStaleTemps removes what dead processes left, and puts back a directory moved aside mid-swap', async (t) => {
    const root = tempDir((fn) => t.after(fn));
    const dead = await deadPid();
    const out = join(root, 'out.tsv');
    writeFileSync(`${out}.tmp-${dead}-0a1b2c3d`, 'partial');
    writeFileSync(`${out}.tmp-${process.pid}-0a1b2c3d`, 'in progress here');
    const model = join(root, 'model');
    mkdirSync(`${model}.old-${dead}-00ff00ff`);
    writeFileSync(join(`${model}.old-${dead}-00ff00ff`, 'config.json'), '{}');
    assert.deepEqual(removeStaleTemps(out), [`${out}.tmp-${dead}-0a1b2c3d`]);
    assert.ok(existsSync(`${out}.tmp-${process.pid}-0a1b2c3d`), "a live process's temporary is left alone");
    removeStaleTemps(model);
    assert.equal(readFileSync(join(model, 'config.json'), 'utf8'), '{}');
    assert.deepEqual(leftovers(model), []);
  });

  test('SIGTERM removes the temporaries of the process, which still dies of the signal', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'out.tsv');
    const script = `
      import { AtomicFile } from ${JSON.stringify(join(ROOT, 'dist/src/util/atomic-write.js'))};
      const f = new AtomicFile(${JSON.stringify(file)});
      await f.write('rows\\n');
      process.kill(process.pid, 'SIGTERM');
      setTimeout(() => {}, 10_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.deepEqual([code, signal], [null, 'SIGTERM']);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('doppel dedup --out is atomic', () => {
  let dir: string;
  let store: string;
  const lines = readFileSync(SAMPLE_QUESTIONS, 'utf8').trim().split('\n');
  const cleanup: (() => void)[] = [];
  after(() => cleanup.forEach((fn) => fn()));
  before(async () => {
    dir = tempDir((fn) => cleanup.push(fn));
    store = join(dir, 'store');
    const model = await loadModel();
    const index = await DuplicateIndex.open(store, { model });
    await index.add(lines.slice(1, 201).map((l) => ({ id: l.split('\t')[0], text: l.split('\t')[1] })));
    await index.close();
    model.dispose();
  });

  test('--out in a missing directory fails at once with a clear message, before any work', async () => {
    const input = join(dir, 'bad.tsv');
    writeFileSync(input, 'id\ttext\n1\t\n'); // --strict would fail on this row if the work started
    const e = await fails(['dedup', input, '--strict', '--out', join(dir, 'missing', 'sub', 'x.tsv')]);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /^doppel: --out \S+x\.tsv: directory \S+missing\/sub does not exist\n$/m);
    assert.doesNotMatch(e.stderr, /text must not be empty|questions read/);
    const e2 = await fails(['dedup', input, '--strict', '--out', dir]);
    assert.match(e2.stderr, /--out \S+ is a directory; give a file name/);
    assert.ok(!existsSync(join(dir, 'missing')));
  });

  test('a failure halfway through writing leaves the old file as it was, and no temporary', async () => {
    const input = join(dir, 'half.tsv');
    // 600 good rows (one batch of 512 is written), then a bad one that stops a --strict run.
    writeFileSync(input, [...lines.slice(0, 601), 'bad\t', ...lines.slice(601, 700)].join('\n') + '\n');
    const out = join(dir, 'matches.tsv');
    writeFileSync(out, 'the old output\n');
    const e = await fails(['dedup', input, '--against', store, '--strict', '--out', out, '--force']);
    assert.match(e.stderr, /half\.tsv:602: text must not be empty \(id 'bad'\)/);
    assert.equal(readFileSync(out, 'utf8'), 'the old output\n');
    assert.deepEqual(leftovers(out), []);
  });

  test('SIGKILL in the middle of writing leaves the old file; the next run clears the leftover', async () => {
    const out = join(dir, 'killed.tsv');
    writeFileSync(out, 'the old output\n');
    const child = spawn(process.execPath, [CLI, 'dedup', SAMPLE_QUESTIONS, '--against', store, '--out', out, '--force'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Rows are being written once the temporary holds more than the header (or, written in place, the target).
    const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
    await waitFor('rows being written', () => size(out) > 1000 || leftovers(out).some((n) => size(join(dir, n)) > 1000));
    child.kill('SIGKILL');
    await exited;
    assert.equal(readFileSync(out, 'utf8'), 'the old output\n', 'the target never holds a partial output');
    assert.equal(leftovers(out).length, 1, 'a hard kill leaves only its temporary');
    const small = join(dir, 'small.tsv');
    writeFileSync(small, lines.slice(0, 11).join('\n') + '\n');
    await doppel(['dedup', small, '--against', store, '--out', out, '--force']);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 11);
    assert.deepEqual(leftovers(out), [], "the dead run's temporary is gone");
  });
});

describe('doppel train --out is atomic', () => {
  const TINY = ['--preset', 'seed', '--embedding-dim', '16', '--hidden', '16', '--batch-size', '64', '--lr', '0.003', '--valid-fraction', '0.2', '--seed', '1'];
  let root: string;
  let model: string;
  let old: Record<string, string>;
  const cleanup: (() => void)[] = [];
  after(() => cleanup.forEach((fn) => fn()));
  before(async () => {
    root = tempDir((fn) => cleanup.push(fn));
    model = join(root, 'model');
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', model, '--epochs', '1', ...TINY]);
    old = snapshot(model);
    assert.ok(old['weights.bin'] && old['calibration.json'] && old['checkpoint/checkpoint.json']);
  });

  test('a failure after the new weights are written leaves the old model directory whole', async () => {
    const raw = {
      train: SAMPLE_PAIRS, out: model, preset: 'seed', validFraction: '0.2', epochs: '1', batchSize: '64', lr: '0.003', clipNorm: '5', dropout: '0.1', patience: '3', seed: '2',
      embeddingDim: '16', hidden: '16', scale: '20', maxLength: '32', vocabSize: '20000', minCount: '1', glove: false, gloveExtraWords: '0', freezeEmbeddings: false, augment: false, resume: false, skipInvalid: false,
    };
    let sawWeights = false;
    const log = (m: string) => {
      if (!m.startsWith('kept epoch')) return;
      // The model is being written: its new weights are already in the temporary directory (or, written in place, in the model).
      const tmp = leftovers(model).find((n) => n.includes('.tmp-'));
      sawWeights = Boolean(tmp && existsSync(join(root, tmp, 'weights.bin'))) || snapshot(model)['weights.bin'] !== old['weights.bin'];
      throw new Error('injected failure after the weights');
    };
    await assert.rejects(trainCommand(raw, log), /injected failure after the weights/);
    assert.ok(sawWeights, 'the failure came after the new weights were written');
    assert.deepEqual(snapshot(model), old, 'old model directory intact');
    assert.deepEqual(leftovers(model), [], 'no partial model directory left');
    assert.ok(existsSync(join(`${model}.checkpoint`, 'checkpoint.json')), 'the run can be resumed');
    rmSync(`${model}.checkpoint`, { recursive: true });
  });

  test('SIGKILL during training leaves the old model; --resume continues the killed run', async () => {
    const child = spawn(process.execPath, [CLI, 'train', '--train', SAMPLE_PAIRS, '--out', model, '--epochs', '4', ...TINY], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // The first epoch's checkpoint (beside the model; or, written in place, inside it).
    const inside = join(model, 'checkpoint', 'checkpoint.json');
    const before = statSync(inside).mtimeMs;
    await waitFor('the first checkpoint', () => existsSync(join(`${model}.checkpoint`, 'checkpoint.json')) || statSync(inside).mtimeMs !== before);
    child.kill('SIGKILL');
    await exited;
    assert.deepEqual(snapshot(model), old, 'old model directory intact');
    assert.ok(!leftovers(model).some((n) => n.includes('.tmp-')), 'no partial model directory');
    const { stderr } = await doppel(['train', '--train', SAMPLE_PAIRS, '--out', model, '--resume', '--epochs', '2', ...TINY]);
    assert.match(stderr, /resuming from \S+model\.checkpoint after epoch [12]/);
    const report = JSON.parse(readFileSync(join(model, 'report.json'), 'utf8'));
    assert.equal(report.history.length, 2);
    assert.ok(existsSync(join(model, 'checkpoint', 'best.weights.bin')), 'the checkpoint moved into the model');
    assert.ok(!existsSync(`${model}.checkpoint`));
    assert.deepEqual(leftovers(model), []);
    // And the finished model resumes from its own checkpoint.
    await doppel(['train', '--train', SAMPLE_PAIRS, '--out', model, '--resume', '--epochs', '3', ...TINY]);
    assert.equal(JSON.parse(readFileSync(join(model, 'report.json'), 'utf8')).history.length, 3);
  });

  test('--out that is not a model directory, or in a missing directory, is refused before training', async () => {
    const other = join(root, 'notes');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'mine');
    const e = await fails(['train', '--train', SAMPLE_PAIRS, '--out', other, '--epochs', '1', ...TINY]);
    assert.match(e.stderr, /--out \S+notes exists and is not a Doppel model directory/);
    assert.equal(readFileSync(join(other, 'keep.txt'), 'utf8'), 'mine');
    // A project folder with a config.json of its own is not a model either.
    writeFileSync(join(other, 'config.json'), '{"name": "my-project"}');
    const e1 = await fails(['train', '--train', SAMPLE_PAIRS, '--out', other, '--epochs', '1', ...TINY]);
    assert.match(e1.stderr, /is not a Doppel model directory/);
    assert.equal(readFileSync(join(other, 'keep.txt'), 'utf8'), 'mine');
    const e2 = await fails(['train', '--train', SAMPLE_PAIRS, '--out', join(root, 'no', 'such', 'm'), '--epochs', '1', ...TINY]);
    assert.match(e2.stderr, /directory \S+no\/such does not exist/);
    assert.doesNotMatch(e2.stderr, /training pairs/);
  });

  test('model.onnx is replaced by a rename, never rewritten in place', async (t) => {
    const dir = join(tempDir((fn) => t.after(fn)), 'm');
    cpSync(model, dir, { recursive: true });
    // A reader holding the old graph open (as ONNX Runtime may) keeps a whole file.
    const fd = openSync(join(dir, FILES.onnx), 'r');
    t.after(() => closeSync(fd));
    const a = await exportModelDir(dir);
    const b = await exportModelDir(dir);
    assert.equal(a.modelId, b.modelId);
    assert.notEqual(statSync(join(dir, FILES.onnx)).ino, fstatSync(fd).ino, 'the file was replaced, not rewritten under the reader');
    assert.equal(JSON.parse(readFileSync(join(dir, FILES.onnxMeta), 'utf8')).modelId, a.modelId);
    assert.equal(statSync(join(dir, FILES.onnx)).size, a.bytes);
    assert.ok(!readdirSync(dir).some((n) => n.includes('.tmp-')));
  });
});
