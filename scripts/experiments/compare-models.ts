/**
 * Trains several model configurations on one split and scores each the same way: validation
 * pairs (question clusters held out of training) at the calibrated threshold, and duplicate
 * retrieval on those held-out clusters (dense and hybrid nDCG@10, every question of the file in
 * the corpus). Results go to a JSON file, one entry per configuration, with the command and date.
 *
 *   node dist/scripts/experiments/compare-models.js --pairs ../shared/data/qqp-pairs/pairs.tsv \
 *     --out scratch/experiments [--configs seed,bilstm,bilstm-mnrl] [--epochs 12] [--glove]
 *
 * A full run of every configuration takes hours on 2 cores; --epochs and --configs shorten it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readPairs } from '../../src/data/pairs.js';
import { splitByCluster } from '../../src/data/split.js';
import { evaluateRetrieval, retrievalTaskFromPairs } from '../../src/evaluation/information-retrieval.js';
import { loadModel } from '../../src/model/load.js';
import type { TrainOptions } from '../../src/training/options.js';
import { train } from '../../src/training/pipeline.js';
import { DuplicateIndex } from '../../src/search/stores.js';

/** The configurations compared: the design card's network, then one change at a time. */
export const CONFIGS: Record<string, Partial<TrainOptions>> = {
  seed: { preset: 'seed' },
  bilstm: { preset: 'default', loss: 'contrastive' },
  'bilstm-augment': { preset: 'default', loss: 'contrastive', augment: true },
  'bilstm-mnrl': { preset: 'default', loss: 'contrastive+mnrl:0.2', augment: true },
};

export interface ExperimentOptions {
  pairs: string;
  out: string;
  configs: string[];
  /** Applied to every configuration (epochs, sizes, glove...). */
  common: Partial<TrainOptions>;
  log?: (message: string) => void;
}

export async function compareModels(options: ExperimentOptions) {
  const seed = options.common.seed ?? 42;
  const validFraction = options.common.validFraction ?? 0.1;
  const { pairs } = await readPairs(options.pairs);
  // The split train() makes with the same seed: the retrieval queries are its held-out clusters.
  const { valid } = splitByCluster(pairs, validFraction, seed);
  const { corpus, task } = retrievalTaskFromPairs(pairs, valid);
  const results = [];
  for (const name of options.configs) {
    const config = CONFIGS[name];
    if (!config) throw new Error(`unknown configuration '${name}' (one of ${Object.keys(CONFIGS).join(', ')})`);
    const started = Date.now();
    const dir = join(options.out, name);
    const trained = await train({ train: options.pairs, out: dir, ...options.common, ...config, seed, validFraction }, { log: options.log });
    const model = await loadModel(dir);
    const index = await DuplicateIndex.open(join(options.out, `${name}-store`), { model });
    try {
      if ((await index.stats()).questions === 0) await index.add(corpus);
      const retrieval = {
        dense: await evaluateRetrieval(index, task, { mode: 'dense', k: 10 }),
        hybrid: await evaluateRetrieval(index, task, { mode: 'hybrid', k: 10 }),
      };
      results.push({
        name,
        options: { ...options.common, ...config },
        validation: trained.validation,
        bestEpoch: trained.bestEpoch,
        retrieval: { dense: retrieval.dense['ndcg@10'], hybrid: retrieval.hybrid['ndcg@10'], queries: task.queries.length, corpus: corpus.length },
        seconds: (Date.now() - started) / 1000,
      });
      options.log?.(`${name}: ROC-AUC ${trained.validation.rocAuc.toFixed(4)}, dense nDCG@10 ${retrieval.dense['ndcg@10'].toFixed(4)}, hybrid ${retrieval.hybrid['ndcg@10'].toFixed(4)}`);
    } finally {
      await index.close();
      model.dispose();
    }
  }
  return { pairs: options.pairs, validPairs: valid.length, seed, results };
}

const isMain = process.argv[1] && resolve(process.argv[1]).endsWith('scripts/experiments/compare-models.js');
if (isMain) {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string' },
      out: { type: 'string' },
      configs: { type: 'string', default: Object.keys(CONFIGS).join(',') },
      epochs: { type: 'string', default: '12' },
      glove: { type: 'boolean', default: false },
      results: { type: 'string' },
    },
  });
  if (!values.pairs || !values.out) {
    process.stderr.write('usage: compare-models --pairs <file> --out <dir> [--configs a,b] [--epochs n] [--glove] [--results file.json]\n');
    process.exit(2);
  }
  mkdirSync(values.out, { recursive: true });
  const report = await compareModels({
    pairs: values.pairs,
    out: values.out,
    configs: values.configs!.split(','),
    common: { epochs: Number(values.epochs), glove: values.glove },
    log: (m) => process.stderr.write(`[experiments] ${m}\n`),
  });
  const file = values.results ?? join(values.out, 'experiment-results.json');
  writeFileSync(file, JSON.stringify({ command: process.argv.slice(1).join(' '), date: new Date().toISOString(), ...report }, null, 2));
  process.stderr.write(`[experiments] wrote ${file}\n`);
}
