/**
 * Builds a duplicate-retrieval task from a labelled pair file, so that retrieval quality can be
 * reproduced: the test question clusters of `doppel train`'s split (the same seed and fractions:
 * clusters no stage of the model was fit on) give the queries, every question of the file is in
 * the corpus as a distractor. `--clusters valid` takes the validation clusters instead, for choices
 * that must not look at the test clusters (such as an ensemble's weights).
 *
 *   node dist/scripts/build-retrieval-task.js --pairs ../shared/data/qqp-pairs/pairs.tsv --out /tmp/qqp-retrieval
 *
 * Writes corpus.tsv (id, text), queries.tsv (query_id, corpus_id, text), qrels.tsv (query_id, corpus_id).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatRow } from '../src/data/delimited.js';
import { readPairs } from '../src/data/pairs.js';
import { splitForTraining } from '../src/data/split.js';
import { retrievalTaskFromPairs } from '../src/evaluation/information-retrieval.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string' },
    out: { type: 'string' },
    'valid-fraction': { type: 'string', default: '0.1' },
    'test-fraction': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
    clusters: { type: 'string', default: 'test' },
  },
});
if (!values.pairs || !values.out || !['test', 'valid'].includes(values.clusters!)) {
  process.stderr.write('usage: build-retrieval-task --pairs <file> --out <dir> [--valid-fraction 0.1] [--test-fraction 0.1] [--seed 42] [--clusters test|valid]\n');
  process.exit(2);
}

const { pairs } = await readPairs(values.pairs);
const split = splitForTraining(pairs, { validFraction: Number(values['valid-fraction']), testFraction: Number(values['test-fraction']), seed: Number(values.seed) });
const { corpus, task } = retrievalTaskFromPairs(pairs, values.clusters === 'valid' ? split.valid : split.test);
const queries = task.queries.map((q) => formatRow([q.queryId, q.corpusId, q.text], '\t'));
const qrels = task.queries.flatMap((q) => [...task.relevant.get(q.queryId)!].map((id) => `${q.queryId}\t${id}`));
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'corpus.tsv'), ['id\ttext', ...corpus.map((q) => formatRow([q.id, q.text], '\t'))].join('\n') + '\n');
writeFileSync(join(values.out, 'queries.tsv'), ['query_id\tcorpus_id\ttext', ...queries].join('\n') + '\n');
writeFileSync(join(values.out, 'qrels.tsv'), ['query_id\tcorpus_id', ...qrels].join('\n') + '\n');
process.stderr.write(`corpus ${corpus.length} questions, ${queries.length} queries, ${qrels.length} judgements -> ${values.out}\n`);
