/**
 * HTTP load from a second process over a store of the real questions (less 2,000 held out as
 * queries): one server process, then `--workers 2` (one writer, one read-only) on the same
 * store, each with /healthz measured in the same run (http-load.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realStore } from './common.js';
import { httpLoad } from './http-load.js';

const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-service-'));
try {
  const { store, stored, queries, dataset } = await realStore(dir);
  const targets = { '/v1/duplicates@1': '<= 15 ms', '/v1/suggest@1': '<= 10 ms', '/v1/duplicates@16': '>= 500 req/s, >= 25 % of /healthz', '/v1/duplicates@64': 'p99 <= 500 ms, none shed (non2xx 0)', '/v1/duplicates@256': 'p99 <= 500 ms; only requests that would miss the deadline shed', '/v1/suggest@64': 'p99 <= 500 ms, 0 errors (503s counted)' };
  for (const workers of [1, 2]) {
    await httpLoad({ bench: 'service', store, texts: queries, workers, targets, config: { questions: stored.length, queriesHeldOut: true, dataset } });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
