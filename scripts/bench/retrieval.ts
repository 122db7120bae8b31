/**
 * Duplicate retrieval with the bundled model on its test question clusters: builds the task
 * (scripts/build-retrieval-task.ts, the same cluster split as the model's training run), a store
 * of every distinct question, and scores dense, lexical and hybrid search with eval-retrieval.
 * Needs ../shared/data/qqp-pairs, the bundled model's training data; without it the held-out
 * clusters cannot be rebuilt and nothing is reported.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundledSplit, report, ROOT, round } from './common.js';

const PAIRS = resolve(ROOT, '../shared/data/qqp-pairs/pairs.tsv');
const CLI = join(ROOT, 'dist/src/cli/main.js');

if (!existsSync(PAIRS)) {
  process.stderr.write('[bench retrieval] ../shared/data/qqp-pairs is missing: nothing reported\n');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-retrieval-'));
  try {
    const split = bundledSplit();
    const task = join(dir, 'task');
    const run = (script: string, args: string[]) => execFileSync(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 }).toString();
    run(join(ROOT, 'dist/scripts/build-retrieval-task.js'), ['--pairs', PAIRS, '--out', task, '--seed', String(split.seed), '--valid-fraction', String(split.validFraction), '--test-fraction', String(split.testFraction)]);
    const store = join(dir, 'store');
    run(CLI, ['index', 'build', '--store', store, '--questions', join(task, 'corpus.tsv')]);
    for (const mode of ['dense', 'lexical', 'hybrid']) {
      const m = JSON.parse(run(CLI, ['eval-retrieval', '--store', store, '--queries', join(task, 'queries.tsv'), '--qrels', join(task, 'qrels.tsv'), '--mode', mode, '--json']));
      report({
        bench: 'retrieval',
        metric: `${mode} retrieval, nDCG@10`,
        value: round(m['ndcg@10'], 3),
        unit: 'nDCG@10',
        config: { mode, queries: m.queries, data: `test question clusters of qqp-pairs (seed ${split.seed}); every distinct question of the file is in the corpus` },
        'mrr@10': round(m['mrr@10'], 3),
        'recall@1': round(m['recall@1'], 3),
        'recall@10': round(m['recall@10'], 3),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
