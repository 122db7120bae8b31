import { cpSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DoppelError } from '../../errors.js';
import type { BackendChoice } from '../../encoder/backend.js';
import type { Model } from '../../model/load.js';
import { FILES, type FeedbackRefitRecord } from '../../model/model-dir.js';
import { TrainOptionsSchema } from '../../training/options.js';
import { loadTrainingPairs } from '../../training/pipeline.js';
import { reportHtml, type TrainingReport } from '../../training/report/training-report.js';
import { chooseStagePoints, measureOnTest, type VerdictReport, verdictStage } from '../../training/verdict-stage.js';
import type { Pair } from '../../data/pairs.js';
import { pairEnergies } from '../../evaluation/binary-classification.js';
import { describeStore, readFeedbackPairs } from '../../search/stores.js';
import { MIN_REVIEWED, refitStack, type ReviewedMetrics, reviewedMetrics, stackRows } from '../../training/refit-stack.js';
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

type TrainingRecord = { settings?: { seed?: number }; split?: { seed: number; validFraction: number | null; testFraction: number | null } } & Record<string, unknown>;

/** The model's training record and its pairs split again as the record says (so the stack is fit only on pairs the encoder did not train on). */
async function recordedSplit(model: Model, flags: FitVerdictFlags, log: (m: string) => void) {
  const dir = model.files.dir;
  const trainingPath = join(dir, FILES.training);
  const training = JSON.parse(await readFile(trainingPath, 'utf8')) as TrainingRecord;
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
  return { trainingPath, training, options, data };
}

/**
 * `doppel fit-verdict`: fits (or refits) the verdict stage of a trained model without training
 * the encoder again. The split is rebuilt from the seed and fractions the model's training.json
 * records, so the stack is fit only on pairs the encoder did not train on.
 */
export async function fitVerdictCommand(model: Model, flags: FitVerdictFlags, log: (m: string) => void): Promise<void> {
  const dir = model.files.dir;
  const { trainingPath, training, options, data } = await recordedSplit(model, flags, log);
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

interface RefitFlags extends FitVerdictFlags {
  /** The store whose reviewed pairs (feedback) the stack is refit on. */
  feedback: string;
  /** Write the refit model here (a copy of the model directory) instead of in place. */
  out?: string;
  /** Write even a model that does worse on the reviewed pairs. */
  force?: boolean;
}

const metricsLine = (m: ReviewedMetrics) => `accuracy ${m.accuracy.toFixed(3)}, precision ${m.precision.toFixed(3)}, recall ${m.recall.toFixed(3)}, ROC-AUC ${m.rocAuc.toFixed(3)} (p >= ${m.threshold.toFixed(3)})`;

/**
 * `doppel fit-verdict --feedback <store>`: the stacked regression refit on the validation pairs
 * plus a store's reviewed pairs (refitStack); the encoder, trees and cross-attention model stay.
 * The current model and the refit are compared on the reviewed pairs, the refit's figures
 * cross-validated (each pair judged by a stack that did not fit on it); a refit that does worse
 * is not written unless `force`.
 */
export async function refitVerdictCommand(model: Model, flags: RefitFlags, log: (m: string) => void): Promise<{ current: ReviewedMetrics; refit: ReviewedMetrics; written: string }> {
  if (!model.verdict) throw new DoppelError('INVALID_INPUT', `${model.files.dir} has no verdict stage to refit: run doppel fit-verdict without --feedback first`);
  if (flags.out && existsSync(flags.out)) throw new DoppelError('INVALID_INPUT', `--out ${flags.out} exists: give a new directory`);
  const reviewed = await readFeedbackPairs(flags.feedback);
  const duplicates = reviewed.filter((p) => p.label === 1).length;
  if (reviewed.length < MIN_REVIEWED.pairs || Math.min(duplicates, reviewed.length - duplicates) < MIN_REVIEWED.perLabel) {
    throw new DoppelError('INVALID_INPUT', `${describeStore(flags.feedback)} holds ${reviewed.length} reviewed pairs (${duplicates} duplicates): a refit needs at least ${MIN_REVIEWED.pairs}, with ${MIN_REVIEWED.perLabel} of each kind`);
  }
  log(`feedback: ${reviewed.length} reviewed pairs (${duplicates} duplicates) from ${describeStore(flags.feedback)}`);
  const { training, data } = await recordedSplit(model, flags, log);
  const { verdict } = model;
  const { encoder, energy } = model.classifier;
  const { energies } = await pairEnergies(encoder, energy, reviewed);
  const review = stackRows(verdict, reviewed, energies);
  const valid = stackRows(verdict, data.valid, (await pairEnergies(encoder, energy, data.valid)).energies);
  const labels = reviewed.map((p) => p.label);
  const current = reviewedMetrics(reviewed.map((p, i) => model.judge(p.q1, p.q2, energies[i]).probability), labels, model.decision().threshold);
  const fit = refitStack(verdict.json, valid, review);
  log(`current model on the reviewed pairs: ${metricsLine(current)}`);
  log(`refit, cross-validated (5 folds by question): ${metricsLine(fit.refit)}; reviewed pairs carry ${fit.reviewedShare} of the fit's weight`);
  if (fit.refit.accuracy < current.accuracy && !flags.force) {
    throw new DoppelError('INVALID_INPUT', `the refit does worse on the reviewed pairs (accuracy ${fit.refit.accuracy.toFixed(3)} against ${current.accuracy.toFixed(3)}): nothing written (--force writes it anyway)`);
  }
  const dir = flags.out ?? model.files.dir;
  if (flags.out) cpSync(model.files.dir, flags.out, { recursive: true });
  await writeFileAtomic(join(dir, FILES.verdict), JSON.stringify(fit.verdict));
  const record: FeedbackRefitRecord = { store: describeStore(flags.feedback), pairs: reviewed.length, duplicates, reviewedShare: fit.reviewedShare, current, refit: fit.refit, createdAt: new Date().toISOString() };
  await writeFileAtomic(join(dir, FILES.training), JSON.stringify({ ...training, feedbackRefit: record }, null, 2));
  log(`verdict stage refit on feedback written to ${join(dir, FILES.verdict)}`);
  return { current, refit: fit.refit, written: dir };
}
