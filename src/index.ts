/** Doppel's library API: the same operations the CLI and the HTTP service use. */
export { DoppelError, type ErrorCode } from './errors.js';

// Training: the whole pipeline of `doppel train`, and its inner loop.
export { train, type ModelDirectory, type PipelineHooks } from './model/training/pipeline.js';
export { PRESETS, TRAIN_DEFAULTS, type TrainOptions } from './model/training/options.js';
export { trainEncoder, type EpochReport, type Progress, type TrainSettings } from './model/training/train.js';
export { calibrate } from './model/calibration/calibrate.js';
export { fitPlatt, plattProbability, type Platt } from './model/calibration/platt.js';
export { exportModelDir } from './model/onnx/export-model-dir.js';
export { makeEnsemble, type MakeEnsembleOptions } from './model/make-ensemble.js';
export { initBackend, type BackendChoice } from './model/backend.js';
export { SiameseEncoder } from './model/encoder.js';
export { ENERGIES, type Energy } from './model/energies/registry.js';
export { contrastive } from './model/losses/contrastive.js';
export { onlineContrastive } from './model/losses/online-contrastive.js';
export { multipleNegativesRanking } from './model/losses/multiple-negatives-ranking.js';

// A trained model: encode and score.
export { loadModel, type Model, type LoadModelOptions, type PairScore } from './model/load.js';
export type { TextEncoder } from './model/text-encoder.js';
export { Tokenizer } from './text/tokenizer.js';
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

// Search: a store of known questions.
export { DuplicateIndex, openIndex } from './search/open-index.js';
export type { Hit, SearchOptions, SearchMode, QuestionInput, OpenOptions, IndexStats } from './search/index-api.js';
export { importQuestions, type ImportOptions, type ImportReport } from './search/import-file.js';

// De-duplication of a file.
export { dedupFile, type DedupOptions, type DedupRow, type DedupSummary } from './dedup/dedup.js';
export { matchAgainstStore } from './dedup/against.js';

// The HTTP service.
export { createApp, type ServiceOptions } from './service/app.js';
export { startServer, type RunningServer, type ServerOptions } from './service/server.js';
