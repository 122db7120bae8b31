/**
 * doppel dedup end to end: every real question (~58k), both clusterings, scored (--eval-pairs)
 * on the pairs of the bundled model's test clusters only, which no stage of it was fit on (without ../shared there are none, and no score is reported); then a synthetic archive of DOPPEL_BENCH_DEDUP_SCALE questions (default
 * 200k; 1,000,000 for the full run) made of real questions with small perturbations. Reports
 * questions/s, the time split, and peak memory (each run in its own process).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRow } from '../../src/data/delimited.js';
import { Random } from '../../src/util/random.js';
import { heldOutTestPairs, realQuestions, report, ROOT, round } from './common.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const SCALE = Number(process.env.DOPPEL_BENCH_DEDUP_SCALE ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-dedup-'));

async function writeQuestions(path: string, texts: string[]): Promise<void> {
  const out = createWriteStream(path);
  out.write('id\ttext\n');
  for (let i = 0; i < texts.length; i++) if (!out.write(formatRow([`q${i}`, texts[i]], '\t') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));
}

/** Runs dedup in a child process, so that its peak memory is its own, and returns its summary. */
function dedup(input: string, extra: string[]): Record<string, any> {
  try {
    const stdout = execFileSync(process.execPath, [CLI, 'dedup', input, '--out', join(dir, 'out.tsv'), '--force', '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
    return JSON.parse(stdout.toString());
  } catch (err) {
    const { status, signal, stderr } = err as { status?: number; signal?: string; stderr?: Buffer };
    throw new Error(`doppel dedup ${extra.join(' ')} failed (exit ${status ?? signal}): ${stderr?.toString().trim().split('\n').slice(-5).join('\n')}`);
  }
}

/** The bundled model's test pairs (no stage was fit on them), written as a pairs file. */
async function heldOutPairs(): Promise<{ path: string; pairs: number } | undefined> {
  const held = await heldOutTestPairs();
  if (!held) return undefined;
  const out = join(dir, 'held-out-pairs.tsv');
  writeFileSync(out, ['question1\tquestion2\tis_duplicate', ...held.pairs.map((p) => formatRow([p.q1, p.q2, String(p.label)], '\t'))].join('\n') + '\n');
  return { path: out, pairs: held.pairs.length };
}

try {
  const { texts, dataset } = await realQuestions();
  const real = join(dir, 'real.tsv');
  await writeQuestions(real, texts);
  const heldOut = await heldOutPairs();
  for (const clustering of ['community', 'components']) {
    const summary = dedup(real, ['--clustering', clustering, ...(heldOut ? ['--eval-pairs', heldOut.path] : [])]);
    // The same run with links decided by the energy threshold alone: what the verdict stage adds.
    const energyAlone = summary.linkedBy === 'verdict' && heldOut ? dedup(real, ['--clustering', clustering, '--eval-pairs', heldOut.path, '--threshold', String(summary.threshold)]) : undefined;
    report({
      bench: 'dedup',
      metric: `dedup ${texts.length} real questions, ${clustering}`,
      value: round(summary.questionsPerSecond, 0),
      unit: 'questions/s',
      config: { questions: summary.questions, dataset, clustering, threshold: summary.threshold, k: 20 },
      timings: summary.timings,
      peakMemoryMb: summary.peakMemoryMb,
      clusters: summary.clusters,
      largestCluster: summary.largestCluster,
      evaluation: summary.evaluation,
      linkedBy: summary.linkedBy,
      energyAlone: energyAlone && { evaluation: energyAlone.evaluation, questionsPerSecond: round(energyAlone.questionsPerSecond, 0), peakMemoryMb: energyAlone.peakMemoryMb },
      evaluatedOn: heldOut ? `${heldOut.pairs} pairs of the bundled model's test clusters` : 'not scored: no held-out pairs without ../shared',
    });
  }

  // A large archive: real questions with small perturbations (case, a dropped word, punctuation).
  const rng = new Random(13);
  const perturb = (t: string) => {
    const words = t.split(' ');
    const r = rng.next();
    if (r < 0.25 && words.length > 4) words.splice(1 + rng.int(words.length - 2), 1);
    else if (r < 0.5) return t.toLowerCase();
    else if (r < 0.75) return t.replace(/\?$/, '') + ' ?';
    return words.join(' ');
  };
  const big = join(dir, 'big.tsv');
  const bigTexts = Array.from({ length: SCALE }, (_, i) => (i < texts.length ? texts[i] : perturb(texts[rng.int(texts.length)])));
  await writeQuestions(big, bigTexts);
  bigTexts.length = 0;
  const summary = dedup(big, []);
  report({
    bench: 'dedup',
    metric: `dedup ${SCALE} questions (real + perturbed), community`,
    value: round(summary.questionsPerSecond, 0),
    unit: 'questions/s',
    target: 'finishes on 2 cores with bounded memory; encoding dominates',
    config: { questions: summary.questions, distinct: summary.questions - summary.exactDuplicates, threshold: summary.threshold },
    timings: summary.timings,
    peakMemoryMb: summary.peakMemoryMb,
    clusters: summary.clusters,
    encodeShare: round(summary.timings.encode / summary.seconds, 2),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
