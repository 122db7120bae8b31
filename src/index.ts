/** Doppel's library API: the same operations the CLI and the HTTP service use. */
export { DoppelError, type ErrorCode } from './errors.js';

// Training: the whole pipeline of `doppel train`, and its inner loop.
export { train, type ModelDirectory, type PipelineHooks } from './training/pipeline.js';
export { PRESETS, TRAIN_DEFAULTS, type TrainOptions } from './training/options.js';
export { trainEncoder, type EpochReport, type Progress, type TrainSettings } from './training/train-encoder.js';
export { calibrate } from './training/calibrate.js';
export { fitPlatt, plattProbability, type Platt } from './model/platt.js';
export { exportModelDir } from './model/export-onnx.js';
export { makeEnsemble, type MakeEnsembleOptions } from './model/make-ensemble.js';
export { initBackend, type BackendChoice } from './encoder/backend.js';
export { SiameseEncoder } from './encoder/siamese-encoder.js';
export { ENERGIES, type Energy } from './encoder/energies/registry.js';
export { contrastive } from './training/losses/contrastive.js';
export { onlineContrastive } from './training/losses/online-contrastive.js';
export { multipleNegativesRanking } from './training/losses/multiple-negatives-ranking.js';

// A trained model: encode and score.
export { loadModel, type Model, type LoadModelOptions, type PairScore, type PairExplanation, type Decision, type DecisionChoice } from './model/load.js';
export { DEFAULT_OPERATING_POINT, OPERATING_POINTS, type OperatingPoint, type OperatingPointName, type OperatingPoints } from './verdict/operating-points.js';
export type { QuestionEncoder } from './encoder/question-encoder.js';
export { Tokenizer } from './text/encoder-tokenizer.js';
export { questionKey } from './text/question-key.js';

// Data files.
export { readPairs, type Pair } from './data/pairs.js';
export { readQuestions, type QuestionRecord } from './data/questions.js';
export { splitByCluster, splitForTraining } from './data/split.js';

// Evaluators.
export {
  evaluatePairs,
  binaryMetrics,
  rocAuc,
  averagePrecision,
  maxAccuracyThreshold,
  precisionThreshold,
  type BinaryMetrics,
} from './evaluation/binary-classification.js';
export { evaluateRetrieval, readRetrievalTask, retrievalMetrics, ndcgAt, mrrAt, recallAt, type RetrievalMetrics, type RetrievalTask } from './evaluation/information-retrieval.js';
export { paraphraseMining, type MiningMetrics } from './evaluation/paraphrase-mining.js';
export { reliability, precisionRecallAt, type ReliabilityBin } from './evaluation/calibration.js';

// Search: a store of known questions.
export { DuplicateIndex, openIndex } from './search/stores.js';
export type { Hit, SearchOptions, SearchMode, QuestionInput, OpenOptions, IndexStats } from './search/backend.js';
export { importQuestions, type ImportOptions, type ImportReport } from './search/import-file.js';

// De-duplication of a file.
export { dedupFile, type DedupOptions, type DedupRow, type DedupSummary } from './dedup/dedup.js';
export { matchAgainstStore } from './dedup/against.js';

// The HTTP service.
export { createApp, type ServiceOptions } from './service/app.js';
export { startServer, type RunningServer, type ServerOptions } from './service/server.js';
