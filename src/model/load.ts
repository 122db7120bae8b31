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
import { type Judgement, type Reason, Verdict } from '../verdict/verdict.js';
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
  /** Probability and decision for two texts whose energy is known: the verdict stage's, else the energy's. */
  judge(a: string, b: string, energy: number): Judgement;
  /** Energy, probability and verdict for two texts. */
  scorePair(a: string, b: string): Promise<PairScore>;
  /** The same with its reasons: the word pairs that carry the similarity and the verdict's inputs that moved it. */
  explainPair(a: string, b: string): Promise<PairExplanation>;
  dispose(): void;
}

export interface PairScore {
  energy: number;
  probability: number;
  isDuplicate: boolean;
  /** The energy threshold of the energy-only decision. */
  threshold: number;
  /** What decided: the verdict stage (energy + lexical evidence) or the energy alone. */
  decidedBy: 'verdict' | 'energy';
}

export interface PairExplanation extends PairScore {
  /** Absent when the encoder is not max-pooled (only then does the similarity split over word pairs). */
  alignment?: WordAlignment;
  /** The verdict stage's reasons (absent without one), largest first, in log-odds. */
  reasons?: Reason[];
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
  const judge = (a: string, b: string, e: number): Judgement => (verdict?.applies(a, b) ? verdict.judge(a, b, e) : { probability: probability(e), isDuplicate: isDuplicate(e) });
  const score = async (a: string, b: string): Promise<PairScore> => {
    const v = await classifier.encode([a, b]);
    const e = energy.vectors(v.subarray(0, classifier.dim), v.subarray(classifier.dim));
    return { energy: e, ...judge(a, b, e), threshold: calibration.threshold, decidedBy: verdict?.applies(a, b) ? 'verdict' : 'energy' };
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
    judge,
    scorePair: score,
    explainPair: async (a, b) => {
      const scored = await score(a, b);
      const reasons = verdict?.applies(a, b) ? verdict.explain(a, b, scored.energy) : undefined;
      let alignment: WordAlignment | undefined;
      if (alignable) {
        explainer ??= initBackend(options.backend, options.log ?? (() => {})).then(() => ({ encoder: SiameseEncoder.fromWeights(files.config, files.weights), tokens: files.tokenizer.tokens() }));
        const x = await explainer;
        alignment = alignWords(x.encoder, files.tokenizer, x.tokens, a, b);
      }
      return { ...scored, alignment, reasons: reasons?.reasons, baseline: reasons?.baseline, rule: reasons?.rule };
    },
    dispose: () => {
      encoder.dispose();
      void explainer?.then((x) => x.encoder.dispose());
    },
  };
}
