/**
 * The robustness suites' figures, recorded like any other: runs the HTTP fuzz suite (a directory
 * store and a PostgreSQL one), the SIGKILL crash suite and the reliability suite's workers-mode
 * shutdown (test/fuzz-http.test.ts, test/crash.test.ts, test/reliability.test.ts, the same files
 * `npm test` runs) and reports what they printed: requests sent, 5xx seen, writes refused,
 * kills survived, questions lost, writes acknowledged after SIGTERM. A failing suite fails the
 * bench.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { report, ROOT } from './common.js';

/** Runs one test file (it fails the bench if it fails) and returns the JSON of each `label: {...}` line it printed. */
function figures(file: string, labels: string[]): Record<string, any>[] {
  const out = execFileSync(process.execPath, ['--test', join(ROOT, 'dist/test', file)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 }).toString();
  return labels.map((label) => {
    const line = out.split('\n').find((l) => l.includes(`${label}: {`));
    if (!line) throw new Error(`${file} printed no '${label}' line`);
    return JSON.parse(line.slice(line.indexOf('{')));
  });
}

const [fuzz, keyed, postgres] = figures('fuzz-http.test.js', ['fuzz-http figures', 'fuzz-http keyed round', 'fuzz-http postgres round']);
// The suite fails unless every one of them is refused.
const unkeyedWrites = fuzz.mainRound.writesWithoutKey + fuzz.warmRound.writesWithoutKey;
report({
  bench: 'robustness',
  metric: 'HTTP fuzz: 5xx answers',
  value: fuzz.mainRound.fiveXX + fuzz.warmRound.fiveXX + keyed.fiveXX,
  unit: '5xx',
  target: '0',
  config: { suite: 'test/fuzz-http.test.ts', seed: fuzz.seed, requestsWithoutKey: fuzz.requests, requestsWithKey: keyed.requests },
  requests: fuzz.requests + keyed.requests,
  unkeyedWrites,
  metricsGrowthBytes: fuzz.metricsBytes.after - fuzz.metricsBytes.before,
});
const [crash] = figures('crash.test.js', ['crash suite']);
report({
  bench: 'robustness',
  metric: 'crash suite: acknowledged questions lost after SIGKILL',
  value: crash.lost,
  unit: 'questions',
  target: '0',
  config: { suite: 'test/crash.test.ts', kills: crash.kills },
  kills: crash.kills,
  killsDuringSave: crash.killsDuringSave,
  acknowledgedInserts: crash.acknowledgedInserts,
  acknowledgedDeletes: crash.acknowledgedDeletes,
  deletedReturned: crash.resurrected,
  temporariesLeft: crash.temporariesLeft,
});
report({
  bench: 'robustness',
  metric: 'HTTP fuzz on a PostgreSQL store (PGlite): 5xx answers, and answers naming the database',
  value: postgres.fiveXX,
  unit: '5xx',
  target: '0',
  config: { suite: 'test/fuzz-http.test.ts', store: 'postgres (PGlite over the wire)', seed: fuzz.seed + 3 },
  requests: postgres.requests,
  leaks: postgres.leaks,
  unkeyedWrites: postgres.writesWithoutKey,
});
const [shutdown] = figures('reliability.test.js', ['workers shutdown round']);
report({
  bench: 'robustness',
  metric: 'serve --workers 2, SIGTERM under 16 writers: 5xx answers',
  value: shutdown.fiveXX,
  unit: '5xx',
  target: '0, every acknowledged write kept, none acknowledged past the deadline, group gone within it',
  config: { suite: 'test/reliability.test.ts', writers: 16, deadlineMs: shutdown.deadlineMs },
  acknowledged: shutdown.acknowledged,
  acknowledgedAfterSigterm: shutdown.acknowledgedAfterSigterm,
  latestAckAfterSigtermMs: shutdown.latestAckAfterSigtermMs,
  exitMs: shutdown.exitMs,
  lost: shutdown.lost,
});
