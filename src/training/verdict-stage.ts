import type { Pair } from '../data/pairs.js';
import { binaryMetrics, type BinaryMetrics, pairEnergies } from '../evaluation/binary-classification.js';
import { fitVerdict, verdictMetrics } from './fit-verdict.js';
import type { VerdictJson } from '../verdict/verdict.js';
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
  /** On the test pairs, which no stage was fit on: the energy alone at its threshold, and the verdict. */
  test?: { energyOnly: BinaryMetrics; verdict: BinaryMetrics };
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
  if (data.test.length > 0) {
    const { energies, labels } = await pairEnergies(encoder, energy, data.test);
    const energyOnly = binaryMetrics(energies, labels, energyThreshold);
    const verdict = verdictMetrics(fit.verdict, data.test, energies);
    report.test = { energyOnly, verdict };
    const line = (m: BinaryMetrics) => `accuracy ${m.accuracy.toFixed(4)}, F1 ${m.f1.toFixed(4)}, ROC-AUC ${m.rocAuc.toFixed(4)}`;
    log(`test (${data.test.length} pairs no stage was fit on): energy alone ${line(energyOnly)}; verdict ${line(verdict)}`);
  }
  report.seconds = (Date.now() - started) / 1000;
  return { verdict: fit.verdict.json, report };
}
