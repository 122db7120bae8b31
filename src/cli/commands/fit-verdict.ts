import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DoppelError } from '../../errors.js';
import type { BackendChoice } from '../../encoder/backend.js';
import type { Model } from '../../model/load.js';
import { FILES } from '../../model/model-dir.js';
import { TrainOptionsSchema } from '../../training/options.js';
import { loadTrainingPairs } from '../../training/pipeline.js';
import { reportHtml, type TrainingReport } from '../../training/report/training-report.js';
import { chooseStagePoints, measureOnTest, type VerdictReport, verdictStage } from '../../training/verdict-stage.js';
import type { Pair } from '../../data/pairs.js';
import { Verdict, type VerdictJson } from '../../verdict/verdict.js';
import type { WordVectors } from '../../verdict/word-vectors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { embeddingWordVectors } from '../../verdict/word-vectors.js';

interface FitVerdictFlags {
  train: string;
  valid?: string;
  test?: string;
  validFraction?: string;
  testFraction?: string;
  seed?: string;
  /** The tfjs backend the cross-attention model trains on. */
  backend?: BackendChoice;
  /** Keep the stage, choose its operating points anew. */
  pointsOnly?: boolean;
}

/** The model's stage with its operating points chosen anew on validation and measured on test. */
async function pointsOnly(model: Model, data: { valid: Pair[]; test: Pair[] }, vectors: WordVectors, recorded: VerdictReport | undefined, log: (m: string) => void): Promise<{ verdict: VerdictJson; report: VerdictReport }> {
  if (!model.verdict || !recorded) throw new DoppelError('INVALID_INPUT', `${model.files.dir} has no fitted verdict stage: run doppel fit-verdict without --points-only`);
  const { classifier } = model;
  const verdict = await chooseStagePoints(model.verdict, classifier.encoder, classifier.energy, data.valid);
  const test = data.test.length > 0 ? await measureOnTest(new Verdict(verdict, vectors), classifier.encoder, classifier.energy, model.threshold, data.test, log) : undefined;
  return { verdict, report: { ...recorded, test } };
}

/**
 * `doppel fit-verdict`: fits (or refits) the verdict stage of a trained model without training
 * the encoder again. The split is rebuilt from the seed and fractions the model's training.json
 * records, so the stack is fit only on pairs the encoder did not train on.
 */
export async function fitVerdictCommand(model: Model, flags: FitVerdictFlags, log: (m: string) => void): Promise<void> {
  const dir = model.files.dir;
  const trainingPath = join(dir, FILES.training);
  const training = JSON.parse(await readFile(trainingPath, 'utf8')) as { settings?: { seed?: number }; split?: { seed: number; validFraction: number | null; testFraction: number | null } } & Record<string, unknown>;
  const recorded = training.split;
  // A recorded fraction of null: that set came from a file, which must be given again.
  if (recorded?.validFraction === null && !flags.valid) throw new DoppelError('INVALID_INPUT', `the model was trained with --valid <file>: give the same file as --valid`);
  if (recorded?.testFraction === null && !flags.test) throw new DoppelError('INVALID_INPUT', `the model was trained with --test <file>: give the same file as --test`);
  const options = TrainOptionsSchema.parse({
    train: flags.train,
    out: dir,
    valid: flags.valid,
    test: flags.test,
    seed: flags.seed ?? recorded?.seed ?? training.settings?.seed,
    validFraction: flags.validFraction ?? recorded?.validFraction ?? undefined,
    // Models from before the test split record no split: theirs was validation alone.
    testFraction: flags.testFraction ?? (recorded ? (recorded.testFraction ?? undefined) : 0),
  });
  if (!recorded && !flags.valid && flags.validFraction === undefined) {
    log(`${trainingPath} records no split: rebuilding the validation split of that time (seed ${options.seed}, ${options.validFraction} of the pairs, no test split)`);
  }
  const data = await loadTrainingPairs(options, log);
  if (data.valid.length === 0) throw new DoppelError('INVALID_INPUT', 'no validation pairs: the stack must be fit on pairs the encoder did not train on');
  const vectors = embeddingWordVectors(model.files.weights.get('embedding')!, model.files.tokenizer);
  const targetPrecision = model.files.calibration.criterion === 'precision' ? model.files.calibration.targetPrecision : undefined;
  const { verdict, report } = flags.pointsOnly
    ? await pointsOnly(model, data, vectors, training.verdict as VerdictReport, log)
    : await verdictStage(model.classifier.encoder, model.classifier.energy, model.threshold, data, vectors, log, { targetPrecision, backend: flags.backend });
  await writeFileAtomic(join(dir, FILES.verdict), JSON.stringify(verdict));
  const split = { seed: options.seed, validFraction: options.valid ? null : options.validFraction, testFraction: options.test ? null : options.testFraction, train: data.train.length, valid: data.valid.length, test: data.test.length };
  await writeFileAtomic(trainingPath, JSON.stringify({ ...training, split, verdict: report }, null, 2));
  // The training report shows the refit stage's held-out figures (operating points, reliability).
  const reportPath = join(dir, 'report.json');
  if (report.test && existsSync(reportPath)) {
    const html = JSON.parse(await readFile(reportPath, 'utf8')) as TrainingReport;
    const updated: TrainingReport = { ...html, verdict: { pairs: data.test.length, test: report.test } };
    await writeFileAtomic(reportPath, JSON.stringify(updated));
    await writeFileAtomic(join(dir, 'report.html'), reportHtml(updated));
  }
  log(`verdict stage written to ${join(dir, FILES.verdict)}`);
}
