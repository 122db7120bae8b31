/**
 * Training as a library call: train() runs the whole pipeline that `doppel train` runs, as named
 * steps. Progress and log lines go to hooks; nothing is printed.
 */
import { existsSync } from 'node:fs';
import { cp, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ZodError } from 'zod';
import { augmentTransitive } from '../data/augment.js';
import { type Pair, readPairs } from '../data/pairs.js';
import { splitForTraining } from '../data/split.js';
import { DoppelError } from '../errors.js';
import { type BinaryMetrics, binaryMetrics } from '../evaluation/binary-classification.js';
import { buildReport, reportHtml } from './report/training-report.js';
import { buildTokenizerJson } from '../text/encoder-vocab.js';
import { Tokenizer } from '../text/encoder-tokenizer.js';
import { checkOutputPath, removeStaleTemps, replaceDir } from '../util/atomic-write.js';
import { formatSeconds } from '../util/format.js';
import { sha256File } from '../util/hash.js';
import { initBackend } from '../encoder/backend.js';
import { calibrate } from './calibrate.js';
import type { ModelConfig } from '../encoder/config.js';
import { SiameseEncoder } from '../encoder/siamese-encoder.js';
import { ENERGIES } from '../encoder/energies/registry.js';
import { TfjsQuestionEncoder } from '../encoder/question-encoder.js';
import { embeddingMatrix, loadWordVectors } from './glove.js';
import { type Calibration, FILES, isModelDir, saveModelFiles, type SaveModelInput } from '../model/model-dir.js';
import { exportModelDir } from '../model/export-onnx.js';
import { variablesToWeights, type WeightMap } from '../encoder/weights.js';
import { CHECKPOINT, copyWeights, readCheckpoint, resumeDir, runCheckpointDir, writeCheckpoint } from './checkpoint.js';
import { PRESETS, type ResolvedTrainOptions, type TrainOptions, TrainOptionsSchema } from './options.js';
import { embeddingWordVectors } from '../verdict/word-vectors.js';
import { verdictStage } from './verdict-stage.js';
import { type EpochReport, type Progress, type ResumeFrom, type TrainerState, type TrainSettings, trainEncoder, validate } from './train-encoder.js';

export interface PipelineHooks {
  /** One line per event worth telling (data read, model set-up, each epoch, the model kept). */
  log?(message: string): void;
  /** After each training batch. */
  onProgress?(progress: Progress): void;
  /** After each epoch, before its line is logged and its checkpoint written. */
  onEpoch?(report: EpochReport, improved: boolean): void;
}

/** What train() wrote. */
export interface ModelDirectory {
  /** The model directory (absolute); loadModel(dir) loads it. */
  dir: string;
  /** Content hash of config and weights: the id loadModel gives the model. */
  modelId: string;
  config: ModelConfig;
  settings: TrainSettings;
  calibration: Calibration;
  /** Validation metrics of the kept model at its calibrated threshold. */
  validation: BinaryMetrics;
  /** The epoch whose weights were kept, and the epochs run in all. */
  bestEpoch: number;
  epochs: number;
  history: EpochReport[];
  /** The training report. */
  report: { json: string; html: string };
  onnx: { path: string; bytes: number };
  /** The checkpoint inside the model, for resuming. */
  checkpoint: string;
}

type Log = (message: string) => void;

/** The pairs a run trains and validates on, and where they came from (recorded in training.json). */
interface TrainingData {
  train: Pair[];
  valid: Pair[];
  /** Pairs no stage is fit on: the model's report measures on them. */
  test: Pair[];
  files: object[];
}

/** A network ready to train: new, or restored from a checkpoint. */
interface StartingPoint {
  config: ModelConfig;
  settings: TrainSettings;
  tokenizerJson: object;
  tokenizer: Tokenizer;
  encoder: SiameseEncoder;
  resume?: ResumeFrom;
  best?: WeightMap;
}

/** Options with their defaults; a bad one is an INVALID_INPUT error naming it. */
export function parseTrainOptions(options: TrainOptions): ResolvedTrainOptions {
  try {
    return TrainOptionsSchema.parse(options);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    throw new DoppelError('INVALID_INPUT', `invalid training options: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
}

/**
 * Step 0, before any work: `out` can be written, and replacing it loses nothing but an older
 * model; what an interrupted run left is cleared; with `resume`, the checkpoint to resume from.
 */
function prepareOutput(out: string, resume: boolean, log: Log): string | undefined {
  const runCheckpoint = runCheckpointDir(out);
  checkOutputPath(out, { what: '--out', kind: 'dir', replaceable: isModelDir, notReplaceable: 'exists and is not a Doppel model directory (it would be replaced whole)' });
  for (const path of [...removeStaleTemps(out), ...removeStaleTemps(runCheckpoint)]) log(`removed ${path}, left by an interrupted run`);
  const from = resume ? resumeDir(out) : undefined;
  if (resume && !from) throw new DoppelError('INVALID_INPUT', `--resume: no checkpoint in ${runCheckpoint} or ${join(out, CHECKPOINT)}`);
  if (!resume && existsSync(join(runCheckpoint, 'checkpoint.json'))) log(`${runCheckpoint} holds the checkpoint of an interrupted run: --resume continues it; this run replaces it after its first epoch`);
  return from;
}

/**
 * Step 1, load the pairs and split: validation pairs from their own file, else whole question
 * clusters split off; then the implied pairs (augment) and a store's feedback added to training.
 */
export async function loadTrainingPairs(options: ResolvedTrainOptions, log: Log = () => {}): Promise<TrainingData> {
  const files: object[] = [];
  const read = async (path: string, role: string) => {
    const { pairs, skipped } = await readPairs(path, { skipInvalid: options.skipInvalid });
    files.push({ role, path, sha256: await sha256File(path), pairs: pairs.length, skipped });
    if (skipped > 0) log(`${path}: skipped ${skipped} invalid rows`);
    return pairs;
  };
  const all = await read(options.train, 'train');
  const split = splitForTraining(all, {
    validFraction: options.valid ? 0 : options.validFraction,
    testFraction: options.test ? 0 : options.testFraction,
    seed: options.seed,
  });
  let train = split.train;
  const valid = options.valid ? await read(options.valid, 'valid') : split.valid;
  const test = options.test ? await read(options.test, 'test') : split.test;
  if (!options.valid) log(`validation: ${valid.length} pairs split off by question cluster (seed ${options.seed})`);
  if (!options.test && test.length > 0) log(`test: ${test.length} pairs split off by question cluster, no stage is fit on them`);
  if (options.augment) {
    const before = train.length;
    train = augmentTransitive(train, options.seed);
    log(`augmentation: ${train.length - before} training pairs implied by transitivity (${before} labelled)`);
  }
  if (options.feedback) {
    const { readFeedbackPairs } = await import('../search/stores.js');
    const extra = await readFeedbackPairs(options.feedback);
    files.push({ role: 'feedback', path: options.feedback, pairs: extra.length });
    log(`feedback: ${extra.length} labelled pairs from ${options.feedback}`);
    train = train.concat(extra);
  }
  return { train, valid, test, files };
}

/** Step 2a, a new network: the vocabulary (built from the training pairs, or given), the architecture, the initial weights. */
async function newModel(options: ResolvedTrainOptions, train: Pair[], log: Log): Promise<StartingPoint> {
  const preset = PRESETS[options.preset];
  const wordVectors = options.glove || options.gloveFile ? await loadWordVectors(options.gloveFile) : undefined;
  const tokenizerJson = options.tokenizer
    ? (JSON.parse(await readFile(options.tokenizer, 'utf8')) as object)
    : buildTokenizerJson(train.flatMap((p) => [p.q1, p.q2]), {
        maxWords: options.vocabSize,
        minCount: options.minCount,
        extraWords: wordVectors?.words,
        maxExtraWords: wordVectors ? options.gloveExtraWords : 0,
      });
  const tokenizer = Tokenizer.fromJson(tokenizerJson);
  const config: ModelConfig = {
    format: 'doppel-siamese-lstm/1',
    vocabSize: tokenizer.vocabSize,
    embeddingDim: options.embeddingDim,
    hiddenUnits: options.hidden ?? preset.hidden,
    layers: options.layers ?? preset.layers,
    bidirectional: options.bidirectional ?? preset.bidirectional,
    pooling: options.pooling ?? preset.pooling,
    projection: options.projection ?? preset.projection,
    energy: options.energy ?? preset.energy,
    maxLength: options.maxLength,
  };
  const settings: TrainSettings = {
    epochs: options.epochs,
    batchSize: options.batchSize,
    learningRate: options.lr,
    clipNorm: options.clipNorm,
    dropout: options.dropout,
    loss: options.loss ?? preset.loss,
    margin: options.margin ?? preset.margin,
    scale: options.scale,
    patience: options.patience,
    rankingEvery: options.rankingEvery,
    seed: options.seed,
    freezeEmbeddings: options.freezeEmbeddings,
    splitEmbedding: true,
  };
  let init: Float32Array | undefined;
  if (wordVectors) {
    // In id order: Object.keys of the vocabulary would put number-like tokens first.
    const vocab = tokenizer.tokens();
    const { values, covered } = embeddingMatrix(vocab, wordVectors, config.embeddingDim, options.seed);
    log(`word vectors: ${covered} of ${vocab.length} tokens initialised from pretrained vectors`);
    init = values;
  }
  return { config, settings, tokenizerJson, tokenizer, encoder: SiameseEncoder.initialise(config, options.seed, init, { lstmInit: options.lstmInit }) };
}

/** Step 2b, a resumed network: everything from the checkpoint, but the number of epochs. */
async function resumedModel(from: string, out: string, epochs: number, log: Log): Promise<StartingPoint> {
  const cp = await readCheckpoint(from, out);
  log(`resuming from ${from} after epoch ${cp.state.epoch} (best ${cp.state.bestEpoch}, ROC-AUC ${cp.state.bestAuc.toFixed(4)})`);
  return {
    config: cp.config,
    settings: { ...cp.settings, epochs },
    tokenizerJson: cp.tokenizerJson,
    tokenizer: Tokenizer.fromJson(cp.tokenizerJson),
    encoder: SiameseEncoder.fromWeights(cp.config, cp.weights),
    resume: { state: cp.state, optimizer: cp.optimizer },
    best: cp.best,
  };
}

/**
 * Step 3, run the epochs (trainEncoder) with early stopping; after each, the checkpoint (latest
 * and best weights, optimizer, trainer state) replaces `checkpointDir` whole. Returns the
 * trainer's state and the best weights.
 */
async function runEpochs(start: StartingPoint, data: TrainingData, checkpointDir: string, hooks: PipelineHooks, log: Log): Promise<{ state: TrainerState; best: WeightMap }> {
  const { encoder, tokenizer, config, settings, tokenizerJson } = start;
  let best = start.best;
  const state = await trainEncoder(encoder, tokenizer, data.train, data.valid, settings, {
    onProgress: (p) => hooks.onProgress?.(p),
    onEpoch: async (report, improved, st, optimizer) => {
      hooks.onEpoch?.(report, improved);
      const v = report.valid;
      log(`epoch ${report.epoch}: loss ${report.trainLoss.toFixed(4)}, valid ROC-AUC ${v.rocAuc.toFixed(4)}, accuracy ${v.accuracy.toFixed(4)}, F1 ${v.f1.toFixed(4)}, ${report.pairsPerSecond.toFixed(0)} pairs/s, ${formatSeconds(report.seconds)}${improved ? ' (best so far: kept)' : ''}`);
      const weights = variablesToWeights(encoder.variables);
      if (improved) best = copyWeights(weights);
      const optimizerWeights = await optimizer();
      await replaceDir(checkpointDir, (dir) => writeCheckpoint(dir, { config, settings, state: st, tokenizerJson, weights, optimizer: optimizerWeights, best }));
    },
  }, start.resume);
  encoder.dispose();
  if (!best) throw new DoppelError('MODEL_ERROR', 'no epoch gave a usable model (the validation ROC-AUC was never a number)');
  return { state, best };
}

/**
 * Step 4, calibrate the kept weights on the validation pairs: the decision threshold (maximum
 * accuracy, or maximum recall at a target precision), Platt scaling, and the metrics there.
 */
async function calibrateModel(config: ModelConfig, weights: WeightMap, tokenizer: Tokenizer, valid: Pair[], targetPrecision?: number) {
  const model = SiameseEncoder.fromWeights(config, weights);
  const { energies, labels } = await validate(model, tokenizer, valid);
  model.dispose();
  const calibration = calibrate(energies, labels, targetPrecision);
  return { energies, labels, calibration, metrics: binaryMetrics(energies, labels, calibration.threshold) };
}

/** Step 5, the verdict stage over the kept weights (see verdict-stage.ts). */
async function fitVerdictStage(config: ModelConfig, weights: WeightMap, tokenizer: Tokenizer, threshold: number, data: TrainingData, log: Log, targetPrecision?: number) {
  const encoder = SiameseEncoder.fromWeights(config, weights);
  try {
    const vectors = embeddingWordVectors(weights.get('embedding')!, tokenizer);
    return await verdictStage(new TfjsQuestionEncoder(encoder, tokenizer), ENERGIES[config.energy], threshold, data, vectors, log, { targetPrecision });
  } finally {
    encoder.dispose();
  }
}

/**
 * Steps 6 and 7, write the model directory whole: the model is written into a temporary sibling
 * of `out` (files, report, ONNX export, and last the checkpoint moved inside it so that resume
 * can continue from the model), which is then renamed in place of the old directory.
 */
async function writeModelDirectory(
  out: string,
  files: SaveModelInput & { calibration: Calibration },
  report: ReturnType<typeof buildReport>,
  resumedFrom: string | undefined,
  log: Log,
): Promise<{ bytes: number; path: string; modelId: string }> {
  const runCheckpoint = runCheckpointDir(out);
  const metrics = report.validation;
  return replaceDir(
    out,
    async (dir) => {
      await saveModelFiles(dir, files);
      await writeFile(join(dir, 'report.json'), JSON.stringify(report));
      await writeFile(join(dir, 'report.html'), reportHtml(report));
      log(`kept epoch ${report.bestEpoch}: validation accuracy ${metrics.accuracy.toFixed(4)}, F1 ${metrics.f1.toFixed(4)}, ROC-AUC ${metrics.rocAuc.toFixed(4)}, AP ${metrics.averagePrecision.toFixed(4)} at energy threshold ${files.calibration.threshold.toFixed(4)}`);
      const exported = await exportModelDir(dir);
      // Last, so that --resume can continue from the model: this run's checkpoint, else the one it resumed from.
      if (existsSync(runCheckpoint)) await rename(runCheckpoint, join(dir, CHECKPOINT));
      else if (resumedFrom) await cp(resumedFrom, join(dir, CHECKPOINT), { recursive: true });
      return exported;
    },
    {
      // A failure after the checkpoint moved in: put it back for --resume.
      beforeDiscard: async (dir) => {
        if (existsSync(join(dir, CHECKPOINT)) && !existsSync(runCheckpoint)) await rename(join(dir, CHECKPOINT), runCheckpoint);
      },
    },
  );
}

/**
 * Trains a siamese model on labelled pairs and writes its model directory, the whole of
 * `doppel train`: load the pairs and split, build (or resume) the vocabulary and encoder, run
 * the epochs with a checkpoint after each, calibrate the best epoch's weights, write the
 * directory atomically with its report, and export ONNX.
 *
 * The model directory appears whole or not at all: a run that dies leaves the old model
 * untouched and `<out>.checkpoint` for `resume`.
 */
export async function train(options: TrainOptions, hooks: PipelineHooks = {}): Promise<ModelDirectory> {
  const opts = parseTrainOptions(options);
  const log: Log = (m) => hooks.log?.(m);
  const out = resolve(opts.out);
  const from = prepareOutput(out, opts.resume, log);
  const backend = await initBackend(opts.backend, log);
  const data = await loadTrainingPairs(opts, log);
  log(`training pairs: ${data.train.length}, validation pairs: ${data.valid.length}`);

  const start = from ? await resumedModel(from, out, opts.epochs, log) : await newModel(opts, data.train, log);
  const { config, settings, tokenizer } = start;
  log(`model: ${JSON.stringify(config)}`);
  log(`training: ${JSON.stringify(settings)}`);
  const started = Date.now();
  const { state, best } = await runEpochs(start, data, runCheckpointDir(out), hooks, log);

  const { energies, labels, calibration, metrics } = await calibrateModel(config, best, tokenizer, data.valid, opts.targetPrecision);
  const stage = opts.verdict ? await fitVerdictStage(config, best, tokenizer, calibration.threshold, data, log, opts.targetPrecision) : undefined;
  const training = {
    createdAt: new Date().toISOString(),
    command: opts.command,
    backend: backend.name,
    seconds: (Date.now() - started) / 1000,
    data: data.files,
    config,
    settings,
    bestEpoch: state.bestEpoch,
    epochs: state.epoch,
    split: { seed: opts.seed, validFraction: opts.valid ? null : opts.validFraction, testFraction: opts.test ? null : opts.testFraction, train: data.train.length, valid: data.valid.length, test: data.test.length },
    validation: metrics,
    verdict: stage?.report,
  };
  const report = buildReport(
    {
      model: relative(process.cwd(), out) || '.',
      createdAt: training.createdAt,
      backend: backend.name,
      config,
      settings,
      data: data.files,
      history: state.history,
      bestEpoch: state.bestEpoch,
      validation: metrics,
      calibration,
      verdict: stage?.report.test ? { pairs: data.test.length, test: stage.report.test } : undefined,
    },
    energies,
    labels,
  );
  const onnx = await writeModelDirectory(out, { config, tokenizerJson: start.tokenizerJson, weights: best, calibration, verdict: stage?.verdict, training }, report, from, log);
  return {
    dir: out,
    modelId: onnx.modelId,
    config,
    settings,
    calibration,
    validation: metrics,
    bestEpoch: state.bestEpoch,
    epochs: state.epoch,
    history: state.history,
    report: { json: join(out, 'report.json'), html: join(out, 'report.html') },
    onnx: { path: join(out, FILES.onnx), bytes: onnx.bytes },
    checkpoint: join(out, CHECKPOINT),
  };
}
