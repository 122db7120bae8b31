import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DoppelError } from '../errors.js';
import { type BackendChoice, initBackend } from '../encoder/backend.js';
import { outputDim } from '../encoder/config.js';
import { type Energy, ENERGIES } from '../encoder/energies/registry.js';
import { SiameseEncoder } from '../encoder/siamese-encoder.js';
import { plattProbability } from './platt.js';
import { FILES, loadModelFiles, type ModelFiles } from './model-dir.js';
import { type QuestionEncoder, TfjsQuestionEncoder } from '../encoder/question-encoder.js';
import { DEFAULT_OPERATING_POINT, type OperatingPointName, type OperatingPoints } from '../verdict/operating-points.js';
import { type Judgement, type Reason, Verdict } from '../verdict/verdict.js';
import { labelled, summarize } from './explanation.js';
import { embeddingWordVectors } from '../verdict/word-vectors.js';
import { alignWords, type WordAlignment } from '../encoder/word-alignment.js';
import { classifierEnergy, EnsembleEncoder } from '../encoder/ensemble-encoder.js';

export const RUNTIMES = ['auto', 'onnx', 'tfjs'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export interface LoadModelOptions {
  /** Inference runtime: ONNX Runtime when the model has a current model.onnx (auto), or tfjs. */
  runtime?: Runtime;
  /** tfjs backend, when tfjs runs. */
  backend?: BackendChoice;
  /** ONNX Runtime threads (default: DOPPEL_THREADS, else the number of CPUs). */
  threads?: number;
  /** false: leave the verdict stage unread (see loadModelFiles). */
  verdict?: boolean;
  log?: (message: string) => void;
}

/**
 * A trained model ready to score: its encoder, energy and calibrated decision. An ensemble
 * (ModelFiles.retriever) indexes with both towers but decides with the classifier tower alone.
 */
export interface Model {
  files: ModelFiles;
  id: string;
  /** The encoder of the vectors a store holds and searches. */
  encoder: QuestionEncoder;
  /** The energy between stored vectors, which search ranks by. */
  energy: Energy;
  /** The tower whose energy decides (threshold, probability, verdict): the model itself unless it is an ensemble. */
  classifier: { encoder: QuestionEncoder; energy: Energy };
  /** An ensemble's deciding energy between two stored vectors; absent when that is `energy`. */
  decisionEnergy?: (a: Float32Array, b: Float32Array) => number;
  threshold: number;
  /** The energy alone as a probability (Platt scaling), and its decision. */
  probability(energy: number): number;
  isDuplicate(energy: number): boolean;
  /** The verdict stage, when the model has one. */
  verdict?: Verdict;
  /** Named probability thresholds (see verdict/operating-points.ts), with their validation precision and recall. */
  operatingPoints: OperatingPoints;
  /** The probability threshold a choice stands for: a caller's minimum probability, else a named point (default `precise`). */
  decision(choice?: DecisionChoice): DecisionRule;
  /** The decision an answer about `text` states: the rule, and whether the verdict (the text has words) or the energy gives the probabilities. */
  decisionFor(text: string, choice?: DecisionChoice): Decision;
  /**
   * Probability and decision for two texts whose energy is known: the verdict stage's, else the
   * energy's. `threshold`: the probability at or above which it is a duplicate (default: the
   * default operating point's).
   */
  judge(a: string, b: string, energy: number, threshold?: number): Judgement;
  /** Energy, probability and verdict for two texts. */
  scorePair(a: string, b: string, choice?: DecisionChoice): Promise<PairScore>;
  /** The same with its reasons: the word pairs that carry the similarity and the verdict's inputs that moved it. */
  explainPair(a: string, b: string, choice?: DecisionChoice): Promise<PairExplanation>;
  dispose(): void;
}

/** How a caller picks the decision: a named operating point, or a minimum probability of its own. */
export interface DecisionChoice {
  operatingPoint?: OperatingPointName;
  minProbability?: number;
}

/** The threshold a decision applies: p >= threshold is a duplicate. */
export interface DecisionRule {
  threshold: number;
  operatingPoint: OperatingPointName | 'custom';
}

/** What decided an answer: the rule, and whether the verdict stage or the energy alone gave the probability. */
export interface Decision extends DecisionRule {
  decidedBy: 'verdict' | 'energy';
}

export interface PairScore {
  energy: number;
  probability: number;
  isDuplicate: boolean;
  decision: Decision;
}

export interface PairExplanation extends PairScore {
  /** One plain sentence from the strongest evidence: what the two share, or what differs. */
  summary: string;
  /** Absent when the encoder is not max-pooled (only then does the similarity split over word pairs). */
  alignment?: WordAlignment;
  /** The verdict stage's reasons (absent without one), largest first, in log-odds, each with the name people read. */
  reasons?: (Reason & { label: string })[];
  /** The log-odds of an average pair, which the reasons move. */
  baseline?: number;
  /** Set when a rule decided instead of the model. */
  rule?: 'identical-text';
}

function parseRuntime(value: string | undefined): Runtime {
  const v = (value ?? 'auto').toLowerCase();
  if ((RUNTIMES as readonly string[]).includes(v)) return v as Runtime;
  throw new DoppelError('INVALID_INPUT', `unknown runtime '${value}': expected ${RUNTIMES.join(', ')}`);
}

/** Why model.onnx cannot serve this model, or undefined when it can. */
function onnxProblem(files: ModelFiles): string | undefined {
  if (!existsSync(join(files.dir, FILES.onnx))) return `no ${FILES.onnx} (doppel export --model ${files.dir} writes one)`;
  try {
    const meta = JSON.parse(readFileSync(join(files.dir, FILES.onnxMeta), 'utf8')) as { modelId?: string };
    if (meta.modelId !== files.towerId) return `${FILES.onnx} was exported from other weights (run doppel export)`;
  } catch {
    return `${FILES.onnxMeta} is missing or unreadable (run doppel export)`;
  }
  return undefined;
}

async function makeEncoder(files: ModelFiles, options: LoadModelOptions): Promise<QuestionEncoder> {
  const log = options.log ?? (() => {});
  const runtime = options.runtime ?? parseRuntime(process.env.DOPPEL_RUNTIME);
  if (runtime !== 'tfjs') {
    let problem = onnxProblem(files);
    if (problem) {
      // The ONNX graph is derived data: write it next to the weights rather than ship it twice.
      try {
        const { exportModelDir } = await import('./export-onnx.js');
        await exportModelDir(files.dir);
        log(`encoder: exported ${FILES.onnx} (${problem.split(' (')[0]})`);
        problem = undefined;
      } catch (err) {
        problem += `; export failed: ${(err as Error).message}`;
      }
    }
    if (!problem) {
      try {
        const { OnnxQuestionEncoder } = await import('../encoder/onnx/onnx-encoder.js');
        const threads = options.threads ?? (Number(process.env.DOPPEL_THREADS) || availableParallelism());
        const encoder = await OnnxQuestionEncoder.create(join(files.dir, FILES.onnx), files.tokenizer, files.config, outputDim(files.config), { threads });
        log(`encoder: ${encoder.runtime}`);
        return encoder;
      } catch (err) {
        if (runtime === 'onnx') throw new DoppelError('BACKEND_UNAVAILABLE', `ONNX Runtime failed: ${(err as Error).message}`);
        log(`encoder: ONNX Runtime unavailable (${(err as Error).message.split('\n')[0]}); falling back to tfjs`);
      }
    } else if (runtime === 'onnx') {
      throw new DoppelError('BACKEND_UNAVAILABLE', `--runtime onnx: ${problem}`);
    } else {
      log(`encoder: tfjs (${problem})`);
    }
  }
  await initBackend(options.backend, log);
  return new TfjsQuestionEncoder(SiameseEncoder.fromWeights(files.config, files.weights), files.tokenizer);
}

export async function loadModel(dir?: string, options: LoadModelOptions = {}): Promise<Model> {
  const files = await loadModelFiles(dir, { verdict: options.verdict });
  const classifier = await makeEncoder(files, options);
  const { retriever } = files;
  const encoder = retriever ? new EnsembleEncoder(classifier, await makeEncoder(retriever.files, options), retriever.classifierWeight) : classifier;
  const { calibration } = files;
  const energy = ENERGIES[files.config.energy];
  const probability = (e: number) => plattProbability(calibration.platt, e);
  const isDuplicate = (e: number) => e <= calibration.threshold;
  const verdict = files.verdict ? new Verdict(files.verdict, embeddingWordVectors(files.weights.get('embedding')!, files.tokenizer)) : undefined;
  // Without a verdict stage (or points recorded with it) every point is the energy's threshold, as a probability.
  const energyPoint = { threshold: probability(calibration.threshold), precision: null, recall: null };
  const operatingPoints: OperatingPoints = files.verdict?.operatingPoints ?? (verdict ? { precise: { ...energyPoint, threshold: verdict.threshold }, balanced: { ...energyPoint, threshold: verdict.threshold }, recall: { ...energyPoint, threshold: verdict.threshold } } : { precise: energyPoint, balanced: energyPoint, recall: energyPoint });
  const decision = (choice: DecisionChoice = {}): DecisionRule =>
    choice.minProbability !== undefined ? { threshold: choice.minProbability, operatingPoint: 'custom' } : { threshold: operatingPoints[choice.operatingPoint ?? DEFAULT_OPERATING_POINT].threshold, operatingPoint: choice.operatingPoint ?? DEFAULT_OPERATING_POINT };
  const defaultThreshold = decision().threshold;
  const judge = (a: string, b: string, e: number, threshold = defaultThreshold): Judgement => {
    // The energy alone gives the probability where the verdict has no words to weigh; the same threshold applies.
    if (!verdict?.applies(a, b)) {
      const p = probability(e);
      return { probability: p, isDuplicate: p >= threshold, decidedBy: 'energy' };
    }
    const p = verdict.judge(a, b, e).probability;
    return { probability: p, isDuplicate: p >= threshold, decidedBy: 'verdict' };
  };
  const score = async (a: string, b: string, choice?: DecisionChoice): Promise<PairScore> => {
    const v = await classifier.encode([a, b]);
    const e = energy.vectors(v.subarray(0, classifier.dim), v.subarray(classifier.dim));
    const rule = decision(choice);
    const { probability: p, isDuplicate: flagged, decidedBy } = judge(a, b, e, rule.threshold);
    return { energy: e, probability: p, isDuplicate: flagged, decision: { ...rule, decidedBy } };
  };
  // Explanations read the encoder's states, which only the tfjs encoder shows: built on first use.
  let explainer: Promise<{ encoder: SiameseEncoder; tokens: string[] }> | undefined;
  const alignable = files.config.pooling === 'max' && files.config.projection === 0;
  return {
    files,
    id: files.id,
    encoder,
    energy,
    classifier: { encoder: classifier, energy },
    decisionEnergy: retriever ? classifierEnergy(classifier.dim) : undefined,
    threshold: calibration.threshold,
    probability,
    isDuplicate,
    verdict,
    operatingPoints,
    decision,
    decisionFor: (text, choice) => ({ ...decision(choice), decidedBy: verdict?.applies(text, text) ? 'verdict' : 'energy' }),
    judge,
    scorePair: score,
    explainPair: async (a, b, choice) => {
      const scored = await score(a, b, choice);
      const reasons = verdict?.applies(a, b) ? verdict.explain(a, b, scored.energy) : undefined;
      let alignment: WordAlignment | undefined;
      if (alignable) {
        explainer ??= initBackend(options.backend, options.log ?? (() => {})).then(() => ({ encoder: SiameseEncoder.fromWeights(files.config, files.weights), tokens: files.tokenizer.tokens() }));
        const x = await explainer;
        alignment = alignWords(x.encoder, files.tokenizer, x.tokens, a, b);
      }
      const summary = summarize(a, b, { isDuplicate: scored.isDuplicate, rule: reasons?.rule, alignment });
      return { ...scored, summary, alignment, reasons: reasons && labelled(reasons.reasons), baseline: reasons?.baseline, rule: reasons?.rule };
    },
    dispose: () => {
      encoder.dispose();
      void explainer?.then((x) => x.encoder.dispose());
    },
  };
}
