import type { Pair } from '../data/pairs.js';
import { binaryMetrics, type BinaryMetrics, pairEnergies } from '../evaluation/binary-classification.js';
import { clusterWeights, fitVerdict, verdictMetrics } from './fit-verdict.js';
import { chooseOperatingPoints } from './operating-points.js';
import { measurePoints, type PointsMeasured, type ReliabilityBin, reliability } from '../evaluation/calibration.js';
import { OPERATING_POINTS } from '../verdict/operating-points.js';
import type { Verdict, VerdictJson } from '../verdict/verdict.js';
import type { WordVectors } from '../verdict/word-vectors.js';
import type { BackendChoice } from '../encoder/backend.js';
import type { Energy } from '../encoder/energies/registry.js';
import type { QuestionEncoder } from '../encoder/question-encoder.js';

/** What the verdict stage measured (recorded in training.json). */
export interface VerdictReport {
  seconds: number;
  /** Lexical trees kept by early stopping. */
  trees: number;
  /** The gradient-boosted trees alone on the validation pairs (not trained on them). */
  treesValidation: BinaryMetrics;
  /** The cross-attention model: the epoch kept, its validation ROC-AUC per epoch, training seconds. */
  crossAttention: { epoch: number; curve: number[]; seconds: number };
  /**
   * On the test pairs, which no stage was fit on: the energy alone at its threshold, the verdict,
   * each operating point's precision and recall there, and the probabilities' calibration.
   */
  test?: { energyOnly: BinaryMetrics; verdict: BinaryMetrics; operatingPoints: PointsMeasured; calibration: { ece: number; bins: ReliabilityBin[] } };
}

/**
 * Step 5 of training (and `doppel fit-verdict` on a trained model): fit the verdict stage on the
 * training and validation pairs, then measure it, and the energy alone, on the test pairs.
 */
export async function verdictStage(
  encoder: QuestionEncoder,
  energy: Energy,
  energyThreshold: number,
  data: { train: Pair[]; valid: Pair[]; test: Pair[] },
  vectors: WordVectors,
  log: (message: string) => void,
  options: { targetPrecision?: number; backend?: BackendChoice } = {},
): Promise<{ verdict: VerdictJson; report: VerdictReport }> {
  const started = Date.now();
  const { energies: validEnergies } = await pairEnergies(encoder, energy, data.valid);
  const fit = await fitVerdict(data.train, data.valid, validEnergies, vectors, { ...options, log });
  const lex = fit.treesValidation;
  const cross = fit.crossAttention;
  log(
    `verdict: ${fit.trees} trees over the pair features (alone on validation: accuracy ${lex.accuracy.toFixed(4)}, ROC-AUC ${lex.rocAuc.toFixed(4)}); ` +
      `cross-attention epoch ${cross.epoch} (alone on validation: ROC-AUC ${cross.curve[cross.epoch - 1].toFixed(4)}); stack fit on ${data.valid.length} validation pairs`,
  );
  const report: VerdictReport = { seconds: 0, trees: fit.trees, treesValidation: lex, crossAttention: cross };
  if (data.test.length > 0) report.test = await measureOnTest(fit.verdict, encoder, energy, energyThreshold, data.test, log);
  report.seconds = (Date.now() - started) / 1000;
  return { verdict: fit.verdict.json, report };
}

/**
 * The verdict, and the energy alone, on test pairs no stage was fit on: metrics, each operating
 * point's precision and recall there, and the calibration of the probabilities.
 */
export async function measureOnTest(verdict: Verdict, encoder: QuestionEncoder, energy: Energy, energyThreshold: number, test: Pair[], log: (message: string) => void): Promise<NonNullable<VerdictReport['test']>> {
  const { energies, labels } = await pairEnergies(encoder, energy, test);
  const energyOnly = binaryMetrics(energies, labels, energyThreshold);
  const metrics = verdictMetrics(verdict, test, energies);
  const probabilities = test.map((p, i) => verdict.judge(p.q1, p.q2, energies[i]).probability);
  const operatingPoints = measurePoints(verdict.json.operatingPoints!, probabilities, labels);
  const calibration = reliability(probabilities, labels);
  const line = (m: BinaryMetrics) => `accuracy ${m.accuracy.toFixed(4)}, F1 ${m.f1.toFixed(4)}, ROC-AUC ${m.rocAuc.toFixed(4)}`;
  log(`test (${test.length} pairs no stage was fit on): energy alone ${line(energyOnly)}; verdict ${line(metrics)}`);
  log(`test calibration: ECE ${calibration.ece.toFixed(4)}; ${OPERATING_POINTS.map((n) => `${n} p >= ${operatingPoints[n].threshold.toFixed(3)}: precision ${operatingPoints[n].precision.toFixed(3)}, recall ${operatingPoints[n].recall.toFixed(3)}`).join('; ')}`);
  return { energyOnly, verdict: metrics, operatingPoints, calibration };
}

/**
 * A fitted stage's operating points chosen anew on the validation pairs (the stage itself kept
 * as it is): for a stage fit before they existed, or to re-choose them.
 */
export async function chooseStagePoints(verdict: Verdict, encoder: QuestionEncoder, energy: Energy, valid: Pair[]): Promise<VerdictJson> {
  const { energies, labels } = await pairEnergies(encoder, energy, valid);
  const probabilities = valid.map((p, i) => verdict.judge(p.q1, p.q2, energies[i]).probability);
  return { ...verdict.json, operatingPoints: chooseOperatingPoints(probabilities, labels, clusterWeights(valid)) };
}
