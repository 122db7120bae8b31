/**
 * Faults an operator's audit found: malformed ids and text (NUL, lone surrogates, invalid
 * UTF-8) on both backends, database errors that named the database, the writer's private
 * channel in `serve --workers` mode, a worker's stale counts, and shutdown under write load.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { startPglite } from '../scripts/pglite-server.js';
import { DuplicateIndex } from '../src/search/stores.js';
import { doppelFails, serveStore, tempDir, TOPICS, useBundledModel } from './helpers.js';
import { usePglite } from './pglite-server.js';
import { postJson, startServe } from './serve-process.js';

const { model } = useBundledModel();
const pg = usePglite();

/** A raw request: the body's bytes as given, nothing re-encoded. */
function raw(url: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const base = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, headers: { 'content-type': 'application/json', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The malformed requests of the audit, each with the answer it must get. */
const MALFORMED: { what: string; method: string; path: string; body?: Buffer }[] = [
  { what: 'GET of an id with a NUL', method: 'GET', path: '/v1/questions/a%00b' },
  { what: 'DELETE of an id with a NUL', method: 'DELETE', path: '/v1/questions/a%00b' },
  { what: 'feedback naming an id with a NUL', method: 'POST', path: '/v1/feedback', body: Buffer.from(JSON.stringify({ aId: 'a\u0000b', b: 'some text', isDuplicate: true })) },
  { what: 'an id with a lone surrogate', method: 'POST', path: '/v1/questions', body: Buffer.from(JSON.stringify({ id: 'lone-\udc00', text: 'How do I learn to bake bread?' })) },
  { what: 'a text with a lone surrogate', method: 'POST', path: '/v1/questions', body: Buffer.from(JSON.stringify({ id: 'lone-text', text: 'How do I \ud800 bake bread?' })) },
  { what: 'a category with a lone surrogate', method: 'POST', path: '/v1/questions', body: Buffer.from(JSON.stringify({ id: 'lone-cat', text: 'How do I bake bread?', category: 'x\udfff' })) },
  { what: 'a search text with a lone surrogate', method: 'POST', path: '/v1/duplicates', body: Buffer.from(JSON.stringify({ text: 'bread \udc00' })) },
  { what: 'feedback text with a lone surrogate', method: 'POST', path: '/v1/feedback', body: Buffer.from(JSON.stringify({ a: 'x \ud83d', b: 'y', isDuplicate: false })) },
  { what: 'a body that is not UTF-8', method: 'POST', path: '/v1/questions', body: Buffer.concat([Buffer.from('{"id":"bad-utf8","text":"caf'), Buffer.from([0xe9]), Buffer.from(' au lait?"}')]) },
  { what: 'a query string that is not UTF-8', method: 'GET', path: '/v1/suggest?q=%ED%B0%80%ED%B0%80bread' },
];

describe('malformed ids and text are refused at the edge, on both backends', () => {
  for (const backend of ['directory', 'postgres'] as const) {
    test(`${backend}: every malformed request gets a 400 that names no database, and nothing is stored`, async (t) => {
      const location = backend === 'postgres' ? await pg.fresh() : join(tempDir((fn) => t.after(fn)), 'store');
      const server = await serveStore(model(), location);
      t.after(() => server.close());
      for (const m of MALFORMED) {
        const answer = await raw(server.url, m.method, m.path, m.body);
        assert.equal(answer.status, 400, `${m.what}: ${answer.text}`);
        assert.equal(JSON.parse(answer.text).error.code, 'INVALID_INPUT', m.what);
        assert.doesNotMatch(answer.text, /postgres|127\.0\.0\.1/, m.what);
      }
      // A stray '%' is no encoding error: the parser keeps it.
      assert.equal((await raw(server.url, 'GET', '/v1/suggest?q=100%25%20off%')).status, 200);
      const index = await DuplicateIndex.open(location, { model: model(), readonly: true });
      try {
        const stats = await index.stats();
        assert.deepEqual([stats.questions, stats.deleted, stats.feedback], [0, 0, 0], 'nothing was stored');
      } finally {
        await index.close();
      }
    });
  }

  test('a file row with a lone surrogate is reported with its line, like a NUL', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.jsonl');
    writeFileSync(file, '{"id":"ok","text":"How do I bake bread?"}\n{"id":"bad","text":"lone \\udc00 surrogate"}\n');
    const { code, stderr } = await doppelFails(['index', 'build', '--store', join(dir, 'store'), '--questions', file]);
    assert.notEqual(code, 0);
    assert.match(stderr, /q\.jsonl:2: text is not well-formed Unicode/);
    assert.ok(!existsSync(join(dir, 'store', 'doppel.sqlite')) || (await storedCount(join(dir, 'store'))) === 0, 'nothing was stored');
  });
});

async function storedCount(store: string): Promise<number> {
  const index = await DuplicateIndex.open(store, { model: model(), readonly: true });
  try {
    return (await index.stats()).questions;
  } finally {
    await index.close();
  }
}

describe('PostgreSQL errors name no database to clients', () => {
  test('with the database down, requests get 503 with Retry-After and a plain message; the address stays in the log', async (t) => {
    const own = await startPglite();
    let stopped = false;
    t.after(() => (stopped ? undefined : own.stop()));
    const index = await DuplicateIndex.open(own.url, { model: model() });
    await index.add([TOPICS[0]]);
    const lines: string[] = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const { startServer } = await import('../src/service/server.js');
    const server = await startServer(index, { host: '127.0.0.1', port: 0, logger, version: 'test' });
    t.after(() => server.close());
    await own.stop();
    stopped = true;
    const where = new URL(own.url);
    for (const [method, path, body] of [
      ['GET', `/v1/questions/${TOPICS[0].id}`, undefined],
      ['POST', '/v1/duplicates', Buffer.from(JSON.stringify({ text: TOPICS[0].text }))],
      ['POST', '/v1/questions', Buffer.from(JSON.stringify({ text: 'How do I bake bread at home?' }))],
    ] as const) {
      const answer = await raw(server.url, method, path, body);
      assert.equal(answer.status, 503, `${method} ${path}: ${answer.text}`);
      assert.equal(JSON.parse(answer.text).error.message, 'cannot reach the database');
      assert.ok(!answer.text.includes(where.port) && !answer.text.includes('postgres'), answer.text);
    }
    assert.ok(lines.some((l) => l.includes(`127.0.0.1:${where.port}`) && l.includes('postgres://postgres:***@')), 'the log has the redacted address');
  });
});

describe("the writer's private channel (serve --workers)", () => {
  test('is a Unix socket only its user can reach, with the main port\'s timeouts and connection cap', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const server = await serveStore(model(), join(dir, 'store'), { internal: true, headersTimeoutMs: 300, maxConnections: 2 });
    t.after(() => server.close());
    const socket = server.internalSocket!;
    assert.ok(socket && statSync(socket).isSocket(), 'a Unix socket, not a TCP port');
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(socket)).mode & 0o777, 0o700);
    assert.ok(dirname(socket).startsWith(tmpdir()));
    // A client that dribbles its headers is cut, as on the main port.
    const slow = connect(socket);
    slow.write('POST /v1/questions HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    const ended = await new Promise<string>((resolve) => {
      let got = '';
      slow.on('data', (d) => (got += d.toString()));
      slow.on('close', () => resolve(got));
    });
    assert.match(ended, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 5000, `cut after ${Date.now() - started} ms`);
    // The connection cap holds there too: a third connection is dropped at accept.
    const held = [connect(socket), connect(socket)];
    t.after(() => held.forEach((s) => s.destroy()));
    await Promise.all(held.map((s) => new Promise((resolve) => s.on('connect', resolve))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const third = connect(socket);
    const closed = await new Promise<boolean>((resolve) => {
      third.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 3000);
    });
    assert.ok(closed, 'the third connection was dropped');
    await server.close();
    assert.ok(!existsSync(dirname(socket)), 'the private directory is removed at close');
  });

  test('a forwarded write that the writer does not answer in time is a 503; an aborted client aborts its forwarded request', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const seen: IncomingMessage[] = [];
    const fakeWriter = createServer((req) => seen.push(req));
    const socket = join(dir, 'writer.sock');
    await new Promise<void>((resolve) => fakeWriter.listen(socket, resolve));
    t.after(() => {
      fakeWriter.closeAllConnections();
      fakeWriter.close();
    });
    const worker = await serveStore(model(), join(dir, 'store'), { writer: socket, forwardTimeoutMs: 500 });
    t.after(() => worker.close());
    const timedOut = await postJson(worker.url, '/v1/questions', { text: 'How do I bake bread?' });
    assert.equal(timedOut.status, 503);
    assert.equal(timedOut.json.error.code, 'OVERLOADED');

    const aborted = new AbortController();
    const sent = fetch(new URL('/v1/feedback', worker.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x', b: 'y', isDuplicate: true }), signal: aborted.signal }).catch(() => undefined);
    while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const forwarded = seen[1];
    const gone = new Promise<void>((resolve) => forwarded.socket.on('close', () => resolve()));
    aborted.abort();
    await sent;
    const started = Date.now();
    await gone;
    assert.ok(Date.now() - started < 400, 'the forwarded request ended with its client, before any timeout');
  });
});

/** The pids of `pid`'s children. */
const childrenOf = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** GET on a fresh connection each time, so that the cluster hands it to the next worker. */
async function freshGet(url: string, path: string): Promise<any> {
  return JSON.parse((await raw(url, 'GET', path, undefined, { connection: 'close' })).text);
}

describe('serve --workers 2', () => {
  test('every worker reports the same counts after writes, without a search first', async (t) => {
    const store = join(tempDir((fn) => t.after(fn)), 'store');
    const serve = await startServe(store, ['--workers', '2']);
    t.after(() => serve.child.kill());
    for (const q of TOPICS) assert.equal((await postJson(serve.url, '/v1/questions', q)).status, 201);
    const counts = [];
    for (let i = 0; i < 8; i++) counts.push((await freshGet(serve.url, '/healthz')).questions);
    assert.deepEqual(counts, counts.map(() => TOPICS.length));
    assert.match(await (await fetch(new URL('/metrics', serve.url), { headers: { connection: 'close' } })).text(), new RegExp(`doppel_index_questions ${TOPICS.length}\\b`));
  });

  test('SIGTERM under 16 concurrent writers: no 503, every acknowledged write kept, nothing acknowledged past the deadline, the group gone in time', async (t) => {
    const store = join(tempDir((fn) => t.after(fn)), 'store');
    const deadlineMs = 4000;
    const serve = await startServe(store, ['--workers', '2', '--shutdown-timeout', String(deadlineMs / 1000)]);
    t.after(() => serve.child.kill('SIGKILL'));
    const pid = serve.child.pid!;
    const workers = childrenOf(pid);
    assert.equal(workers.length, 2, 'a writer and a read-only worker');
    let sigtermAt = Infinity;
    const acknowledged: { id: string; at: number }[] = [];
    const statuses = new Map<number, number>();
    const refused: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        try {
          const r = await postJson(serve.url, '/v1/questions', { id, text: `Writer ${w} asks question number ${i} about ${TOPICS[i % TOPICS.length].text}` });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 201) acknowledged.push({ id, at: performance.now() });
          else if (r.status >= 500) refused.push(`${r.status} ${JSON.stringify(r.json)}`);
        } catch {
          // Refused or reset connections once the server has stopped listening: expected.
          statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
          if (performance.now() > sigtermAt) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    sigtermAt = performance.now();
    serve.child.kill('SIGTERM');
    const code = await serve.exited;
    const exitMs = performance.now() - sigtermAt;
    stop = true;
    await Promise.all(writers);
    const latestAckMs = Math.max(0, ...acknowledged.map((a) => a.at - sigtermAt));
    const index = await DuplicateIndex.open(store, { model: model(), readonly: true });
    const missing: string[] = [];
    try {
      for (const { id } of acknowledged) if (!(await index.get(id))) missing.push(id);
    } finally {
      await index.close();
    }
    const figures = {
      deadlineMs,
      acknowledged: acknowledged.length,
      acknowledgedAfterSigterm: acknowledged.filter((a) => a.at > sigtermAt).length,
      latestAckAfterSigtermMs: Math.round(latestAckMs),
      exitMs: Math.round(exitMs),
      fiveXX: refused.length,
      lost: missing.length,
      statuses: Object.fromEntries(statuses),
    };
    console.log(`workers shutdown round: ${JSON.stringify(figures)}`);
    assert.equal(code, 0);
    assert.deepEqual(refused, [], 'no 5xx from a process that was not stopping');
    assert.deepEqual(missing, [], 'every acknowledged write is in the store');
    assert.ok(exitMs < deadlineMs, `the primary exited ${Math.round(exitMs)} ms after SIGTERM`);
    assert.deepEqual(workers.filter(alive), [], 'the workers are gone');
    assert.ok(latestAckMs <= deadlineMs, `a write was acknowledged ${Math.round(latestAckMs)} ms after SIGTERM`);
    assert.ok(acknowledged.length > 20, `enough writes went through (${acknowledged.length})`);
  });
});
