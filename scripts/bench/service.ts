/**
 * HTTP load from a second process: a server (child process) over a store of every real question,
 * autocannon here, for POST /v1/duplicates and GET /v1/suggest at 1, 16 and 64 connections.
 * Suggest requests are cut from real titles at random points, as typed; both draw from 2,000
 * questions so the suggest cache is exercised the way repeated keystrokes would.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { formatRow } from '../../src/data/delimited.js';
import { Random } from '../../src/util/random.js';
import { realQuestions, report, ROOT, round } from './common.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const SECONDS = Number(process.env.DOPPEL_BENCH_SECONDS ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-service-'));
const { texts, dataset } = await realQuestions();
const file = join(dir, 'questions.tsv');
writeFileSync(file, ['id\ttext', ...texts.map((t, i) => formatRow([`q${i}`, t], '\t'))].join('\n') + '\n');
const store = join(dir, 'store');

const runCli = (args: string[]) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`doppel ${args[0]} exited ${code}`))));
  });
await runCli(['index', 'build', '--store', store, '--questions', file]);

const server = spawn(process.execPath, [CLI, 'serve', '--store', store, '--port', '0', '--rate-limit', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
const url = await new Promise<string>((resolve, reject) => {
  let seen = '';
  server.stderr.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    const m = seen.match(/serving \d+ questions on (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`server exited ${code}: ${seen}`)));
});

try {
  const rng = new Random(9);
  const pool = Array.from({ length: 2000 }, () => texts[rng.int(texts.length)]);
  const pick = () => pool[rng.int(pool.length)];
  const routes = {
    '/v1/duplicates': () => ({ method: 'POST' as const, path: '/v1/duplicates', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: pick(), k: 10 }) }),
    '/v1/suggest': () => {
      const t = pick();
      const cut = Math.max(3, Math.floor(t.length * (0.3 + 0.6 * rng.next())));
      return { method: 'GET' as const, path: `/v1/suggest?k=5&q=${encodeURIComponent(t.slice(0, cut))}` };
    },
  };
  const targets: Record<string, string> = { '/v1/duplicates': '<= 15 ms at 1 connection', '/v1/suggest': '<= 10 ms at 1 connection' };
  for (const [route, make] of Object.entries(routes)) {
    for (const connections of [1, 16, 64]) {
      const result = await autocannon({ url, connections, duration: SECONDS, requests: [{ setupRequest: (req: object) => ({ ...req, ...make() }) }] });
      report({
        bench: 'service',
        metric: `${route} p99 latency, ${connections} connection${connections > 1 ? 's' : ''}`,
        value: result.latency.p99,
        unit: 'ms',
        target: connections === 1 ? targets[route] : connections === 64 ? 'no errors' : undefined,
        config: { route, connections, seconds: SECONDS, questions: texts.length, dataset },
        p50: result.latency.p50,
        requestsPerSecond: round(result.requests.average, 0),
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
      });
    }
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
