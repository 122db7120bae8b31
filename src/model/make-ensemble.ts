import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { DoppelError } from '../errors.js';
import { checkOutputPath, removeStaleTemps, replaceDir } from '../util/atomic-write.js';
import { type Ensemble, FILES, isModelDir, loadModelFiles } from './model-dir.js';
import { WEIGHTS_BIN } from '../encoder/weights.js';

/** What a tower directory holds that a model needs, and its provenance (the rest, such as checkpoints, stays behind). */
const TOWER_FILES = [FILES.config, FILES.tokenizer, 'weights.json', WEIGHTS_BIN, FILES.calibration, FILES.training, 'report.json', 'report.html', FILES.onnx, FILES.onnxMeta];

interface TrainingRecord {
  command?: string;
  data?: { role: string; sha256: string }[];
  split?: { seed: number; validFraction: number | null; testFraction: number | null };
  settings?: object;
  bestEpoch?: number;
  validation?: object;
  [key: string]: unknown;
}

async function training(dir: string): Promise<TrainingRecord> {
  const path = join(dir, FILES.training);
  if (!existsSync(path)) throw new DoppelError('INVALID_INPUT', `${dir} has no ${FILES.training}: an ensemble needs to know both towers were trained on the same split`);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as TrainingRecord;
  } catch (err) {
    throw new DoppelError('INVALID_INPUT', `${path} is not readable JSON: ${(err as Error).message}`);
  }
}

/**
 * The two towers must have learnt from the same pairs with the same held-out clusters: otherwise
 * the retriever may have trained on the classifier's validation or test questions, and every
 * held-out figure of the ensemble would be inflated.
 */
function sameSplit(a: TrainingRecord, b: TrainingRecord): string | undefined {
  const data = (t: TrainingRecord) => JSON.stringify((t.data ?? []).map((d) => [d.role, d.sha256]));
  if (data(a) !== data(b)) return 'they were trained on different pair files';
  const split = (t: TrainingRecord) => JSON.stringify([t.split?.seed, t.split?.validFraction, t.split?.testFraction]);
  if (!a.split || !b.split || split(a) !== split(b)) return 'they record different (or no) train/validation/test splits';
  return undefined;
}

export interface MakeEnsembleOptions {
  classifier: string;
  retriever: string;
  out: string;
  /** w in the index energy w * E_classifier + (1 - w) * E_retriever. */
  classifierWeight: number;
  command?: string;
}

/**
 * Writes a model directory that decides with the classifier tower (its calibration and verdict
 * stage, unchanged) and indexes with both (ensemble-encoder.ts): the classifier's files, the
 * retriever's in retriever/, and ensemble.json. The directory appears whole or not at all.
 */
export async function makeEnsemble(options: MakeEnsembleOptions): Promise<{ id: string }> {
  if (!(options.classifierWeight > 0 && options.classifierWeight < 1)) throw new DoppelError('INVALID_INPUT', '--classifier-weight must be between 0 and 1 (exclusive)');
  const [from, to, out] = [options.classifier, options.retriever, options.out].map((p) => (existsSync(p) ? realpathSync(p) : resolve(p)));
  if (from === to) throw new DoppelError('INVALID_INPUT', '--classifier and --retriever are the same directory: an ensemble needs two towers');
  // --out is replaced whole: it must not be, or hold, either tower.
  if ([from, to].some((tower) => tower === out || tower.startsWith(out + sep))) throw new DoppelError('INVALID_INPUT', '--out must be a new directory, not one of the towers or a folder holding one');
  const [classifier, retriever] = await Promise.all([loadModelFiles(options.classifier), loadModelFiles(options.retriever, { verdict: false })]);
  for (const [name, files] of [['--classifier', classifier], ['--retriever', retriever]] as const) {
    if (files.retriever) throw new DoppelError('INVALID_INPUT', `${name} ${files.dir} is already an ensemble: give a single tower`);
    if (files.config.energy !== 'cosine') throw new DoppelError('INVALID_INPUT', `${name} ${files.dir} uses the ${files.config.energy} energy: an ensemble blends two cosine towers`);
  }
  const [trainedA, trainedB] = await Promise.all([training(options.classifier), training(options.retriever)]);
  const mismatch = sameSplit(trainedA, trainedB);
  if (mismatch) throw new DoppelError('INVALID_INPUT', `cannot blend ${options.classifier} and ${options.retriever}: ${mismatch}`);
  checkOutputPath(options.out, { what: '--out', kind: 'dir', replaceable: isModelDir, notReplaceable: 'exists and is not a Doppel model directory (it would be replaced whole)' });
  removeStaleTemps(options.out);
  const ensemble: Ensemble = { format: 'doppel-ensemble/1', classifierWeight: options.classifierWeight };
  await replaceDir(options.out, async (dir) => {
    // The retriever never decides, so its verdict stage (if any) is left behind.
    await copyTower(options.classifier, dir, [FILES.verdict]);
    await mkdir(join(dir, FILES.retriever));
    await copyTower(options.retriever, join(dir, FILES.retriever));
    await writeFile(join(dir, FILES.ensemble), JSON.stringify(ensemble, null, 2));
    const { command, settings, bestEpoch, validation } = trainedB;
    const record = { ...trainedA, ensemble: { ...ensemble, command: options.command, retriever: { command, settings, bestEpoch, validation } } };
    await writeFile(join(dir, FILES.training), JSON.stringify(record, null, 2));
  });
  return { id: (await loadModelFiles(options.out)).id };
}

async function copyTower(from: string, to: string, extra: string[] = []): Promise<void> {
  for (const f of [...TOWER_FILES, ...extra]) if (existsSync(join(from, f))) await copyFile(join(from, f), join(to, f));
}
