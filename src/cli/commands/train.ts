import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { type Pair, readPairs } from '../../data/pairs.js';
import { augmentTransitive } from '../../data/augment.js';
import { splitByCluster } from '../../data/split.js';
import { DoppelError } from '../../errors.js';
import { type BackendChoice, initBackend } from '../../model/backend.js';
import { ENERGY_NAMES, LSTM_INITS, type ModelConfig, POOLINGS } from '../../model/config.js';
import { SiameseEncoder } from '../../model/encoder.js';
import { binaryMetrics } from '../../model/evaluation/binary.js';
import { embeddingMatrix, loadWordVectors } from '../../model/glove.js';
import { FILES, saveModelFiles } from '../../model/model-dir.js';
import { exportModelDir } from '../../model/onnx/export-model-dir.js';
import { calibrate } from '../../model/training/calibrate.js';
import { type TrainerState, type TrainSettings, trainEncoder, validate } from '../../model/training/train.js';
import { loadWeights, saveWeights, variablesToWeights } from '../../model/weights.js';
import { buildReport, reportHtml } from '../../report/training-report.js';
import { buildTokenizerJson } from '../../text/build-vocab.js';
import { Tokenizer } from '../../text/tokenizer.js';
import { sha256File } from '../../util/hash.js';
import { formatSeconds, ProgressBar } from '../progress.js';

/** Named starting points; explicit flags override them. */
export const PRESETS = {
  /** The design card's network: LSTM(128), last state, Euclidean energy, contrastive loss. */
  seed: { hidden: 128, layers: 1, bidirectional: false, pooling: 'last', projection: 0, energy: 'euclidean', loss: 'contrastive', margin: 1 },
  /** The bundled model's network: BiLSTM max-pool, cosine energy, contrastive plus a little in-batch ranking. */
  default: { hidden: 128, layers: 1, bidirectional: true, pooling: 'max', projection: 0, energy: 'cosine', loss: 'contrastive+mnrl:0.2', margin: 0.5 },
} as const;

const TrainArgs = z.object({
  train: z.string(),
  valid: z.string().optional(),
  out: z.string(),
  preset: z.enum(['seed', 'default']),
  validFraction: z.coerce.number().gt(0).lt(1),
  epochs: z.coerce.number().int().positive(),
  batchSize: z.coerce.number().int().min(2),
  lr: z.coerce.number().positive(),
  clipNorm: z.coerce.number().min(0),
  dropout: z.coerce.number().min(0).lt(1),
  patience: z.coerce.number().int().positive(),
  seed: z.coerce.number().int(),
  embeddingDim: z.coerce.number().int().positive(),
  lstmInit: z.enum(LSTM_INITS),
  hidden: z.coerce.number().int().positive().optional(),
  layers: z.coerce.number().int().min(1).max(4).optional(),
  bidirectional: z.boolean().optional(),
  pooling: z.enum(POOLINGS).optional(),
  projection: z.coerce.number().int().min(0).optional(),
  energy: z.enum(ENERGY_NAMES).optional(),
  loss: z.string().optional(),
  margin: z.coerce.number().positive().optional(),
  scale: z.coerce.number().positive(),
  maxLength: z.coerce.number().int().positive(),
  vocabSize: z.coerce.number().int().positive(),
  minCount: z.coerce.number().int().positive(),
  tokenizer: z.string().optional(),
  glove: z.boolean(),
  gloveFile: z.string().optional(),
  gloveExtraWords: z.coerce.number().int().min(0),
  targetPrecision: z.coerce.number().gt(0).max(1).optional(),
  freezeEmbeddings: z.boolean(),
  augment: z.boolean(),
  resume: z.boolean(),
  skipInvalid: z.boolean(),
  feedback: z.string().optional(),
  backend: z.string().optional(),
});
export type TrainArgs = z.infer<typeof TrainArgs>;

interface Checkpoint {
  config: ModelConfig;
  settings: TrainSettings;
  state: TrainerState;
}

const CHECKPOINT = 'checkpoint';

async function loadTrainingPairs(args: TrainArgs, log: (m: string) => void): Promise<{ train: Pair[]; valid: Pair[]; files: object[] }> {
  const files: object[] = [];
  const read = async (path: string, role: string) => {
    const { pairs, skipped } = await readPairs(path, { skipInvalid: args.skipInvalid });
    files.push({ role, path, sha256: await sha256File(path), pairs: pairs.length, skipped });
    if (skipped > 0) log(`${path}: skipped ${skipped} invalid rows`);
    return pairs;
  };
  let train = await read(args.train, 'train');
  let valid: Pair[];
  if (args.valid) {
    valid = await read(args.valid, 'valid');
  } else {
    ({ train, valid } = splitByCluster(train, args.validFraction, args.seed));
    log(`validation: ${valid.length} pairs split off by question cluster (seed ${args.seed})`);
  }
  if (args.augment) {
    const before = train.length;
    train = augmentTransitive(train, args.seed);
    log(`augmentation: ${train.length - before} training pairs implied by transitivity (${before} labelled)`);
  }
  if (args.feedback) {
    const { readFeedbackPairs } = await import('../../index/feedback.js');
    const extra = await readFeedbackPairs(args.feedback);
    files.push({ role: 'feedback', path: args.feedback, pairs: extra.length });
    log(`feedback: ${extra.length} labelled pairs from ${args.feedback}`);
    train = train.concat(extra);
  }
  return { train, valid, files };
}

export async function trainCommand(raw: Record<string, unknown>, log: (m: string) => void): Promise<void> {
  const args = TrainArgs.parse(raw);
  const preset = PRESETS[args.preset];
  const out = resolve(args.out);
  const checkpointDir = join(out, CHECKPOINT);
  const backend = await initBackend(args.backend as BackendChoice | undefined, log);
  const { train, valid, files } = await loadTrainingPairs(args, log);
  log(`training pairs: ${train.length}, validation pairs: ${valid.length}`);

  let config: ModelConfig;
  let settings: TrainSettings;
  let tokenizerJsonValue: object;
  let encoder: SiameseEncoder;
  let resume: { state: TrainerState; optimizer: Awaited<ReturnType<typeof loadWeights>> } | undefined;

  if (args.resume) {
    if (!existsSync(join(checkpointDir, 'checkpoint.json'))) throw new DoppelError('INVALID_INPUT', `--resume: no checkpoint in ${checkpointDir}`);
    const cp = JSON.parse(await readFile(join(checkpointDir, 'checkpoint.json'), 'utf8')) as Checkpoint;
    config = cp.config;
    settings = { ...cp.settings, epochs: args.epochs };
    tokenizerJsonValue = JSON.parse(await readFile(join(checkpointDir, FILES.tokenizer), 'utf8')) as object;
    encoder = SiameseEncoder.fromWeights(config, await loadWeights(checkpointDir));
    resume = { state: cp.state, optimizer: await loadWeights(checkpointDir, 'optimizer.') };
    log(`resuming after epoch ${cp.state.epoch} (best ${cp.state.bestEpoch}, ROC-AUC ${cp.state.bestAuc.toFixed(4)})`);
  } else {
    const wordVectors = args.glove || args.gloveFile ? await loadWordVectors(args.gloveFile) : undefined;
    if (args.tokenizer) {
      tokenizerJsonValue = JSON.parse(await readFile(args.tokenizer, 'utf8')) as object;
    } else {
      tokenizerJsonValue = buildTokenizerJson(train.flatMap((p) => [p.q1, p.q2]), {
        maxWords: args.vocabSize,
        minCount: args.minCount,
        extraWords: wordVectors?.words,
        maxExtraWords: wordVectors ? args.gloveExtraWords : 0,
      });
    }
    const tokenizer = Tokenizer.fromJson(tokenizerJsonValue);
    config = {
      format: 'doppel-siamese-lstm/1',
      vocabSize: tokenizer.vocabSize,
      embeddingDim: args.embeddingDim,
      hiddenUnits: args.hidden ?? preset.hidden,
      layers: args.layers ?? preset.layers,
      bidirectional: args.bidirectional ?? preset.bidirectional,
      pooling: args.pooling ?? preset.pooling,
      projection: args.projection ?? preset.projection,
      energy: args.energy ?? preset.energy,
      maxLength: args.maxLength,
    };
    settings = {
      epochs: args.epochs,
      batchSize: args.batchSize,
      learningRate: args.lr,
      clipNorm: args.clipNorm,
      dropout: args.dropout,
      loss: args.loss ?? preset.loss,
      margin: args.margin ?? preset.margin,
      scale: args.scale,
      patience: args.patience,
      seed: args.seed,
      freezeEmbeddings: args.freezeEmbeddings,
      splitEmbedding: true,
    };
    let init: Float32Array | undefined;
    if (wordVectors) {
      const vocab = tokenizer.tokens();
      const { values, covered } = embeddingMatrix(vocab, wordVectors, config.embeddingDim, args.seed);
      log(`word vectors: ${covered} of ${vocab.length} tokens initialised from pretrained vectors`);
      init = values;
    }
    encoder = SiameseEncoder.initialise(config, args.seed, init, { lstmInit: args.lstmInit });
  }
  const tokenizer = Tokenizer.fromJson(tokenizerJsonValue);
  log(`model: ${JSON.stringify(config)}`);
  log(`training: ${JSON.stringify(settings)}`);
  await mkdir(checkpointDir, { recursive: true });
  await writeFile(join(checkpointDir, FILES.tokenizer), JSON.stringify(tokenizerJsonValue));

  let bar: ProgressBar | undefined;
  let barEpoch = 0;
  const started = Date.now();
  const state = await trainEncoder(encoder, tokenizer, train, valid, settings, {
    onProgress: (p) => {
      if (p.epoch !== barEpoch) {
        bar?.done();
        bar = new ProgressBar(`epoch ${p.epoch}/${p.epochs}`, p.total, 'pairs');
        barEpoch = p.epoch;
      }
      bar!.update(p.done, `loss ${p.loss.toFixed(4)}`);
    },
    onEpoch: async (report, improved, st, optimizer) => {
      bar?.done();
      const v = report.valid;
      log(`epoch ${report.epoch}: loss ${report.trainLoss.toFixed(4)}, valid ROC-AUC ${v.rocAuc.toFixed(4)}, accuracy ${v.accuracy.toFixed(4)}, F1 ${v.f1.toFixed(4)}, ${report.pairsPerSecond.toFixed(0)} pairs/s, ${formatSeconds(report.seconds)}${improved ? ' (best so far: kept)' : ''}`);
      const weights = variablesToWeights(encoder.variables);
      if (improved) await saveModelFiles(out, { config, tokenizerJson: tokenizerJsonValue, weights });
      await saveWeights(checkpointDir, weights);
      await saveWeights(checkpointDir, await optimizer(), 'optimizer.');
      const cp: Checkpoint = { config, settings, state: st };
      await writeFile(join(checkpointDir, 'checkpoint.json'), JSON.stringify(cp));
    },
  }, resume);
  encoder.dispose();

  // Calibrate the kept (best) model on validation and write the report.
  const best = SiameseEncoder.fromWeights(config, await loadWeights(out));
  const { energies, labels } = await validate(best, tokenizer, valid);
  best.dispose();
  const calibration = calibrate(energies, labels, args.targetPrecision);
  const metrics = binaryMetrics(energies, labels, calibration.threshold);
  const training = {
    createdAt: new Date().toISOString(),
    command: ['doppel', ...process.argv.slice(2)].join(' '),
    backend: backend.name,
    seconds: (Date.now() - started) / 1000,
    data: files,
    config,
    settings,
    bestEpoch: state.bestEpoch,
    epochs: state.epoch,
    validation: metrics,
  };
  await saveModelFiles(out, { config, tokenizerJson: tokenizerJsonValue, weights: await loadWeights(out), calibration, training });
  const report = buildReport(
    { model: relative(process.cwd(), out) || '.', createdAt: training.createdAt, backend: backend.name, config, settings, data: files, history: state.history, bestEpoch: state.bestEpoch, validation: metrics, calibration },
    energies,
    labels,
  );
  await writeFile(join(out, 'report.json'), JSON.stringify(report));
  await writeFile(join(out, 'report.html'), reportHtml(report));
  log(`kept epoch ${state.bestEpoch}: validation accuracy ${metrics.accuracy.toFixed(4)}, F1 ${metrics.f1.toFixed(4)}, ROC-AUC ${metrics.rocAuc.toFixed(4)}, AP ${metrics.averagePrecision.toFixed(4)} at energy threshold ${calibration.threshold.toFixed(4)}`);
  const onnx = await exportModelDir(out);
  log(`model written to ${out} (report: ${join(out, 'report.html')}; ONNX export ${(onnx.bytes / 1e6).toFixed(1)} MB)`);
}
