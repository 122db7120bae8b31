import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatRow } from '../../src/data/delimited.js';
import { type Pair, readPairs } from '../../src/data/pairs.js';
import { splitForTraining } from '../../src/data/split.js';
import { defaultModelDir } from '../../src/model/model-dir.js';
import { questionKey } from '../../src/text/question-key.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const SHARED_PAIRS = resolve(ROOT, '../shared/data/qqp-pairs/pairs.tsv');
const SAMPLE_PAIRS = join(ROOT, 'data/sample/pairs.tsv');

/** The Quora pairs: the full shared copy where present, else the bundled sample (said in the output). */
export function pairsFile(): { path: string; dataset: string } {
  return existsSync(SHARED_PAIRS) ? { path: SHARED_PAIRS, dataset: 'qqp-pairs (shared, 33.7k pairs)' } : { path: SAMPLE_PAIRS, dataset: 'data/sample (2k pairs)' };
}

/** Every distinct question of the pairs file. */
export async function realQuestions(): Promise<{ texts: string[]; dataset: string }> {
  const { path, dataset } = pairsFile();
  const { pairs } = await readPairs(path);
  const seen = new Map<string, string>();
  for (const p of pairs) for (const q of [p.q1, p.q2]) if (!seen.has(questionKey(q))) seen.set(questionKey(q), q);
  return { texts: [...seen.values()], dataset };
}

/**
 * Every 29th question (up to `heldOut` of them) is held out of a benchmark's store, so that the
 * queries are new questions, as a service sees them.
 */
export function splitHeldOut(all: string[], heldOut = 2000): { stored: string[]; queries: string[] } {
  const queries = all.filter((_, i) => i % 29 === 0).slice(0, heldOut);
  return { stored: all.filter((_, i) => i % 29 !== 0 || i / 29 >= heldOut), queries };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** p50 and p99 of a list of milliseconds. */
export function latencies(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3) };
}

export interface BenchResult {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** What the figure is held to, e.g. ">= 200". */
  target?: string;
  config: Record<string, unknown>;
  [extra: string]: unknown;
}

/** One JSON line per figure on stdout, with the command that reproduces it: run-all.ts collects them. */
export function report(result: BenchResult): void {
  // The load average says how busy the shared machine was while the figure was taken.
  const stamp = { command: `npm run bench -- ${result.bench}`, date: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`, loadAverage: round(loadavg()[0], 1) };
  process.stdout.write(JSON.stringify({ ...result, ...stamp }) + '\n');
}

/**
 * The same shape timed in PyTorch (scripts/bench/pytorch_peer.py) in this run, for a measured
 * ratio; undefined where no Python has torch (Debian: apt-get install python3-torch), so that
 * no ratio is ever typed in.
 */
export function pytorchPeer(mode: 'train' | 'encode', shape: Record<string, number>): { value: number; torch: string; threads: number } | undefined {
  const script = join(ROOT, 'scripts/bench/pytorch_peer.py');
  const env = { ...process.env, ...Object.fromEntries(Object.entries(shape).map(([k, v]) => [`DOPPEL_PEER_${k.toUpperCase()}`, String(v)])) };
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      return JSON.parse(execFileSync(python, [script, mode], { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString());
    } catch {
      // no such interpreter, or no torch in it: try the next one
    }
  }
  return undefined;
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The bundled model's training split as its training.json records it (seed and fractions). */
export interface BundledSplit {
  seed: number;
  validFraction: number;
  testFraction: number;
}

export function bundledSplit(): BundledSplit {
  const training = JSON.parse(readFileSync(join(defaultModelDir(), 'training.json'), 'utf8')) as { settings: { seed: number }; split?: { seed: number; validFraction: number | null; testFraction: number | null } };
  const s = training.split;
  return { seed: s?.seed ?? training.settings.seed, validFraction: s?.validFraction ?? 0.1, testFraction: s?.testFraction ?? 0 };
}

/**
 * The pairs of the bundled model's test clusters (no stage of it was fit on them), from the shared
 * Quora pairs; undefined without ../shared (the sample was not held out of its training).
 */
export async function heldOutTestPairs(): Promise<{ pairs: Pair[]; split: BundledSplit } | undefined> {
  const { path, dataset } = pairsFile();
  if (!dataset.startsWith('qqp-pairs')) return undefined;
  const split = bundledSplit();
  const { test } = splitForTraining((await readPairs(path)).pairs, split);
  return test.length > 0 ? { pairs: test, split } : undefined;
}

const MEDICAL_PAIRS = resolve(ROOT, '../shared/data/medical-question-pairs/mqp.csv');

/**
 * The medical question pairs (../shared/data/medical-question-pairs: doctor-written rewrites, out
 * of domain, never trained on), or undefined without ../shared. The file has no header: one is
 * put in front so that the pairs are read by the same CSV reader as every other pair file.
 */
export async function medicalPairs(): Promise<Pair[] | undefined> {
  if (!existsSync(MEDICAL_PAIRS)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'doppel-mqp-'));
  try {
    const path = join(dir, 'mqp.csv');
    writeFileSync(path, 'doctor,question1,question2,is_duplicate\n' + readFileSync(MEDICAL_PAIRS, 'utf8'));
    return (await readPairs(path)).pairs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A directory store of the real questions less the held-out ones (splitHeldOut), built by
 * `doppel index build` with the bundled model in `dir`: what the server benchmarks load.
 */
export async function realStore(dir: string): Promise<{ store: string; stored: string[]; queries: string[]; dataset: string }> {
  const { texts, dataset } = await realQuestions();
  const { stored, queries } = splitHeldOut(texts);
  const file = join(dir, 'questions.tsv');
  writeFileSync(file, ['id\ttext', ...stored.map((t, i) => formatRow([`q${i}`, t], '\t'))].join('\n') + '\n');
  const store = join(dir, 'store');
  const built = spawnSync(process.execPath, [CLI, 'index', 'build', '--store', store, '--questions', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error(`doppel index build exited ${built.status}`);
  return { store, stored, queries, dataset };
}

/** `doppel serve` on a store in a child process (rate limit off), once it answers: its URL. */
export async function serveProcess(store: string, options: { args?: string[]; env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'serve', '--store', store, '--port', '0', '--rate-limit', '0', ...(options.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    server.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /serving \d+ questions on (http:\/\/\S+)/.exec(seen);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`doppel serve exited ${code}: ${seen}`)));
  });
  return { server, url };
}
