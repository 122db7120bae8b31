/**
 * Builds a duplicate-retrieval task from a labelled pair file, so that retrieval quality can be
 * reproduced: held-out question clusters (the same cluster split `doppel train` makes with the
 * same seed) give the queries, every question of the file is in the corpus as a distractor.
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
import { splitByCluster } from '../src/data/split.js';
import { questionKey } from '../src/text/question-key.js';
import { KeyedUnionFind } from '../src/util/union-find.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string' },
    out: { type: 'string' },
    'valid-fraction': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
  },
});
if (!values.pairs || !values.out) {
  process.stderr.write('usage: build-retrieval-task --pairs <file> --out <dir> [--valid-fraction 0.1] [--seed 42]\n');
  process.exit(2);
}

const { pairs } = await readPairs(values.pairs);
const { valid } = splitByCluster(pairs, Number(values['valid-fraction']), Number(values.seed));

// Corpus: every distinct question (by normalised text), with a stable id.
const ids = new Map<string, { id: string; text: string }>();
for (const p of pairs) {
  for (const q of [p.q1, p.q2]) {
    const key = questionKey(q);
    if (!ids.has(key)) ids.set(key, { id: `q${ids.size + 1}`, text: q });
  }
}

// Duplicate clusters among held-out questions: union of duplicate-labelled validation pairs.
const uf = new KeyedUnionFind();
for (const p of valid) {
  const [a, b] = [questionKey(p.q1), questionKey(p.q2)];
  uf.add(a);
  uf.add(b);
  if (p.label === 1 && a !== b) uf.union(a, b);
}
const clusters = uf.groups();

const queries: string[] = ['query_id\tcorpus_id\ttext'];
const qrels: string[] = ['query_id\tcorpus_id'];
let n = 0;
for (const members of clusters.values()) {
  if (members.length < 2) continue;
  // Every member of a cluster asks once; the rest of its cluster is what it should find.
  for (const m of members) {
    const qid = `Q${++n}`;
    queries.push(formatRow([qid, ids.get(m)!.id, ids.get(m)!.text], '\t'));
    for (const other of members) if (other !== m) qrels.push(`${qid}\t${ids.get(other)!.id}`);
  }
}
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'corpus.tsv'), ['id\ttext', ...[...ids.values()].map((q) => formatRow([q.id, q.text], '\t'))].join('\n') + '\n');
writeFileSync(join(values.out, 'queries.tsv'), queries.join('\n') + '\n');
writeFileSync(join(values.out, 'qrels.tsv'), qrels.join('\n') + '\n');
process.stderr.write(`corpus ${ids.size} questions, ${n} queries, ${qrels.length - 1} judgements -> ${values.out}\n`);
