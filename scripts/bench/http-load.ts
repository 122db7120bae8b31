/**
 * HTTP load on a real server from this process (the server runs in child processes): POST
 * /v1/duplicates at 1, 16, 64 and 256 connections, GET /v1/suggest at 1, 16 and 64, and GET /healthz at 1 and 16
 * in the same run as the ceiling of what the HTTP layer allows. Suggest requests are cut from
 * real titles at random points, as typed, from a pool of 2,000 so the suggest cache sees
 * repeated keystrokes. Each run also records the CPU the server's threads spent per request
 * (Linux /proc), which says how far one process can go on any number of cores, and (one process)
 * the milliseconds a request spent in each search stage, from the server's own /metrics.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Random } from '../../src/util/random.js';
import { report, round, serveProcess } from './common.js';

const SECONDS = Number(process.env.DOPPEL_BENCH_SECONDS ?? 8);
const TICK_MS = 10;

export interface LoadOptions {
  bench: string;
  store: string;
  /** Queries the requests draw from (held out of the store). */
  texts: string[];
  workers: number;
  config: Record<string, unknown>;
  /** Targets by route and connections, e.g. { '/v1/duplicates@1': '<= 10 ms' }. */
  targets?: Record<string, string>;
}

/** The process and its children (the workers of `serve --workers`). */
function processTree(pid: number): number[] {
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [pid, ...children];
}

/** CPU milliseconds so far of the main threads and of all threads of the given processes. */
function cpu(pids: number[]): { main: number; all: number } {
  let main = 0;
  let all = 0;
  for (const pid of pids) {
    const dir = `/proc/${pid}/task`;
    if (!existsSync(dir)) continue;
    for (const tid of readdirSync(dir)) {
      try {
        const fields = readFileSync(`${dir}/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
        const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
        all += ms;
        if (tid === String(pid)) main += ms;
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  return { main, all };
}

/** Seconds spent so far in each search stage, summed, from the server's /metrics. */
async function stageSeconds(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Object.fromEntries([...text.matchAll(/^doppel_search_stage_duration_seconds_sum\{stage="(\w+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

export async function httpLoad(options: LoadOptions): Promise<void> {
  const { server, url } = await serveProcess(options.store, { args: ['--workers', String(options.workers)] });
  try {
    const pids = processTree(server.pid!).filter((p) => options.workers === 1 || p !== server.pid);
    const rng = new Random(9);
    const pool = Array.from({ length: 2000 }, () => options.texts[rng.int(options.texts.length)]);
    const pick = () => pool[rng.int(pool.length)];
    const routes: Record<string, { connections: number[]; make: () => object }> = {
      '/healthz': { connections: [1, 16], make: () => ({ method: 'GET', path: '/healthz' }) },
      '/v1/duplicates': {
        connections: [1, 16, 64, 256],
        make: () => ({ method: 'POST', path: '/v1/duplicates', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: pick(), k: 10 }) }),
      },
      '/v1/suggest': {
        connections: [1, 16, 64],
        make: () => {
          const t = pick();
          const cut = Math.max(3, Math.floor(t.length * (0.3 + 0.6 * rng.next())));
          return { method: 'GET', path: `/v1/suggest?k=5&q=${encodeURIComponent(t.slice(0, cut))}` };
        },
      },
    };
    const healthz: Record<number, number> = {};
    for (const [route, { connections: list, make }] of Object.entries(routes)) {
      for (const connections of list) {
        const stagesBefore = options.workers === 1 ? await stageSeconds(url) : undefined;
        const before = cpu(pids);
        const result = await autocannon({ url, connections, duration: SECONDS, requests: [{ setupRequest: (req: object) => ({ ...req, ...make() }) }] });
        const used = cpu(pids);
        const stagesAfter = stagesBefore ? await stageSeconds(url) : undefined;
        const served = result.requests.total;
        const answered = served - result.non2xx;
        if (route === '/healthz') healthz[connections] = result.requests.average;
        const ceiling = healthz[connections] ?? healthz[16];
        report({
          bench: options.bench,
          metric: `${route} p99 latency, ${connections} connection${connections > 1 ? 's' : ''}, ${options.workers} process${options.workers > 1 ? 'es' : ''}`,
          value: result.latency.p99,
          unit: 'ms',
          target: options.targets?.[`${route}@${connections}`],
          config: { ...options.config, route, connections, workers: options.workers, seconds: SECONDS },
          p50: result.latency.p50,
          requestsPerSecond: round(result.requests.average, 0),
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          shareOfHealthz: route === '/healthz' || !ceiling ? undefined : round(result.requests.average / ceiling, 3),
          cpuMsPerRequest: served > 0 ? { mainThreads: round((used.main - before.main) / served, 3), allThreads: round((used.all - before.all) / served, 3) } : undefined,
          // From the server's own /metrics (one process): milliseconds an answered request spent in each stage (a shed one spends none).
          stageMsPerRequest:
            stagesBefore && stagesAfter && answered > 0 && route !== '/healthz'
              ? Object.fromEntries(Object.entries(stagesAfter).map(([stage, seconds]) => [stage, round(((seconds - (stagesBefore[stage] ?? 0)) * 1000) / answered, 3)]))
              : undefined,
        });
      }
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('exit', resolve));
  }
}
