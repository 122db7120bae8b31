/**
 * A model upgrade without downtime, measured: a server (`doppel serve`, one process) on a store of
 * the real questions (less 2,000 held out as queries) answers a steady /v1/duplicates load (a fixed
 * rate from a few connections, held-out texts) while `POST /v1/model/activate` puts the bundled
 * model's retriever tower into service. Reported: p99 before and during the activation (the
 * target: within 3x), errors, answers from a half-switched model (an answer whose decision is not
 * the threshold of the model its Doppel-Model header names), and how long the activation took.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load.js';
import { defaultModelDir } from '../../src/model/model-dir.js';
import { latencies, realStore, report, round, serveProcess } from './common.js';

const KEY = 'bench-admin-key';
const RATE = Number(process.env.DOPPEL_BENCH_RATE ?? 40);
const CONNECTIONS = 4;
const BEFORE_SECONDS = 10;
const NEXT = join(defaultModelDir(), 'retriever');

interface Answer {
  at: number;
  ms: number;
  status: number;
  model: string | null;
  threshold: number | undefined;
}

const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-activation-'));
try {
  const { store, stored, queries, dataset } = await realStore(dir);
  // Each model's default threshold, to tell which model an answer came from.
  const thresholds = new Map<string, number>();
  for (const d of [defaultModelDir(), NEXT]) {
    const m = await loadModel(d);
    thresholds.set(m.id, m.operatingPoints.precise.threshold);
    m.dispose();
  }
  const { server: child, url } = await serveProcess(store, { env: { DOPPEL_API_KEY: KEY } });
  try {
    const answers: Answer[] = [];
    const t0 = performance.now();
    let running = true;
    // A fixed rate: each connection sends its next request on its own schedule (or at once when behind).
    const interval = (1000 * CONNECTIONS) / RATE;
    const loops = Array.from({ length: CONNECTIONS }, async (_, c) => {
      let next = performance.now() + (c * interval) / CONNECTIONS;
      for (let i = c; running; i += CONNECTIONS) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += interval;
        const started = performance.now();
        const res = await fetch(new URL('/v1/duplicates', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: queries[i % queries.length], k: 5 }) });
        const body = (await res.json()) as { decision?: { threshold: number } };
        answers.push({ at: started - t0, ms: performance.now() - started, status: res.status, model: res.headers.get('doppel-model'), threshold: body.decision?.threshold });
      }
    });
    await new Promise((r) => setTimeout(r, BEFORE_SECONDS * 1000));
    const activationStart = performance.now() - t0;
    const started = await fetch(new URL('/v1/model/activate', url), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ model: NEXT }) });
    if (started.status !== 202) throw new Error(`activate answered ${started.status}: ${await started.text()}`);
    let state = 'encoding';
    while (state === 'encoding' || state === 'switching') {
      await new Promise((r) => setTimeout(r, 200));
      state = ((await (await fetch(new URL('/v1/model', url))).json()) as { activation: { state: string } }).activation.state;
    }
    const activationEnd = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 3000));
    running = false;
    await Promise.all(loops);
    if (state !== 'done') throw new Error(`the activation ended ${state}`);
    // The first second is the server warming up.
    const before = answers.filter((a) => a.at >= 1000 && a.at < activationStart);
    const during = answers.filter((a) => a.at >= activationStart && a.at < activationEnd);
    const p99 = (list: Answer[]) => latencies(list.map((a) => a.ms)).p99;
    const errors = answers.filter((a) => a.status !== 200).length;
    const mixed = answers.filter((a) => a.status === 200 && thresholds.get(a.model ?? '') !== a.threshold).length;
    const config = { questions: stored.length, dataset, rate: RATE, connections: CONNECTIONS, from: 'bundled model (ensemble)', to: 'its retriever tower', answersBefore: before.length, answersDuring: during.length };
    report({
      bench: 'activation',
      metric: '/v1/duplicates p99 during a model activation, as a multiple of p99 before it (steady load)',
      value: round(p99(during) / p99(before), 2),
      unit: 'x',
      target: '<= 3',
      config,
      p99BeforeMs: round(p99(before), 1),
      p99DuringMs: round(p99(during), 1),
      p50BeforeMs: latencies(before.map((a) => a.ms)).p50,
      p50DuringMs: latencies(during.map((a) => a.ms)).p50,
    });
    report({ bench: 'activation', metric: 'answers with an error during the run (before, during and after the activation)', value: errors, unit: 'answers', target: '0', config, answers: answers.length });
    report({ bench: 'activation', metric: "answers from a half-switched model (decision threshold not the one of the model the answer names)", value: mixed, unit: 'answers', target: '0', config });
    report({ bench: 'activation', metric: 'model activation time: every stored question encoded with the new model, then the switch', value: round((activationEnd - activationStart) / 1000, 1), unit: 's', config });
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
