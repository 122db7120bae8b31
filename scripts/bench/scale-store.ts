/**
 * The million-question store of the scale benchmarks: every real Quora question (less the
 * held-out queries), then perturbed copies of them up to 1M (there are not 1M real questions
 * here; every figure measured on it says so). A copy is a real question with one to three word
 * edits: a word dropped, two neighbours swapped, or a word replaced by one drawn from the
 * corpus (so word frequencies, and so posting-list lengths, stay Zipfian). Encoding a million
 * questions and building their graph takes many minutes, so the store is built once into
 * DOPPEL_SCALE_DIR (default: scratch-1m beside the repository) and reused while its recipe (the
 * bundled model's id among it) is unchanged.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatRow } from '../../src/data/delimited.js';
import { loadModelFiles } from '../../src/model/model-dir.js';
import { Random } from '../../src/util/random.js';
import { realQuestions, ROOT, splitHeldOut } from './common.js';

export const SCALE_QUESTIONS = 1_000_000;
const SEED = 12;

function perturb(text: string, rng: Random, wordPool: string[]): string {
  const words = text.split(' ');
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits && words.length > 2; e++) {
    const i = rng.int(words.length);
    const op = rng.int(3);
    if (op === 0) words.splice(i, 1);
    else if (op === 1 && i + 1 < words.length) [words[i], words[i + 1]] = [words[i + 1], words[i]];
    else words[i] = wordPool[rng.int(wordPool.length)];
  }
  return words.join(' ');
}

/** The stored texts: real ones first, then the copies. */
export function scaleCorpus(real: string[], total = SCALE_QUESTIONS): string[] {
  const rng = new Random(SEED);
  const wordPool = real.flatMap((t) => t.split(' ')).filter((w) => /^[a-z]+$/i.test(w));
  const out = [...real];
  while (out.length < total) out.push(perturb(real[rng.int(real.length)], rng, wordPool));
  return out;
}

export interface ScaleStore {
  store: string;
  queries: string[];
  questions: number;
  dataset: string;
  /** Says what the store is, for every figure's configuration. */
  label: string;
}

/** Builds the store once (nice'd: it takes minutes), or finds the one built before. */
export async function scaleStore(): Promise<ScaleStore> {
  const dir = resolve(process.env.DOPPEL_SCALE_DIR ?? join(ROOT, '../scratch-1m'));
  const { texts: all, dataset } = await realQuestions();
  const { stored, queries } = splitHeldOut(all);
  const recipe = JSON.stringify({ questions: SCALE_QUESTIONS, seed: SEED, real: stored.length, dataset, model: (await loadModelFiles()).id });
  const store = join(dir, 'store');
  const stamp = join(dir, 'recipe.json');
  const label = `${stored.length} real Quora questions + ${SCALE_QUESTIONS - stored.length} perturbed copies`;
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== recipe) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'questions.tsv');
    writeFileSync(file, ['id\ttext', ...scaleCorpus(stored).map((t, i) => formatRow([`q${i}`, t], '\t'))].join('\n') + '\n');
    process.stderr.write(`[bench] building the 1M store in ${dir} (once; many minutes)\n`);
    const built = spawnSync('nice', ['-n', '5', process.execPath, join(ROOT, 'dist/src/cli/main.js'), 'index', 'build', '--store', store, '--questions', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (built.status !== 0) throw new Error(`building the 1M store failed (exit ${built.status})`);
    rmSync(file);
    writeFileSync(stamp, recipe);
  }
  return { store, queries, questions: SCALE_QUESTIONS, dataset, label };
}
