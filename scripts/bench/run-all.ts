/**
 * Runs every benchmark in scripts/bench (each in its own process, one after another so they do
 * not compete for the 2 cores), echoes their JSON lines and writes them to bench-results.json.
 * Naming benches (`npm run bench -- index category`) re-runs those and keeps the others' figures.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './common.js';

const BENCHES = ['train', 'encode', 'index', 'category', 'service', 'scale', 'typos', 'dedup', 'reader', 'robustness', 'quality', 'reference', 'retrieval', 'postgres', 'review-loop', 'activation'];
const only = process.argv.slice(2);
const RESULTS = join(ROOT, 'bench-results.json');
const running = only.length > 0 ? only : BENCHES;
// Figures of benches not run now are kept, among them the 'baseline' rows: the same benchmarks
// measured on an older commit by that commit's own scripts, which this tree can no longer run.
const kept = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as { results: { bench: string }[] }).results.filter((r) => !running.includes(r.bench)) : [];
const results: object[] = [...kept];
for (const name of BENCHES.filter((b) => only.length === 0 || only.includes(b))) {
  process.stderr.write(`[bench] ${name}\n`);
  const out = execFileSync(process.execPath, [join(ROOT, 'dist/scripts/bench', `${name}.js`)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 }).toString();
  for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
    process.stdout.write(line + '\n');
    results.push(JSON.parse(line));
  }
}
writeFileSync(RESULTS, JSON.stringify({ createdAt: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0]?.model}`, results }, null, 2));
process.stderr.write(`[bench] wrote bench-results.json (${results.length} figures)\n`);
execFileSync(process.execPath, [join(ROOT, 'dist/scripts/benchmarks-doc.js')], { stdio: 'inherit' });
