import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadModel, type Model } from '../src/model/load.js';
import { LruCache } from '../src/util/lru-cache.js';
import { openApiDocument } from '../src/service/openapi.js';
import { RateLimiter } from '../src/service/rate-limit.js';
import { isLoopbackHost, type RunningServer, type ServerOptions } from '../src/service/server.js';
import { MAX_TEXT_LENGTH } from '../src/text/validate.js';
import { serveStore, tempDir } from './helpers.js';

let model: Model;

before(async () => {
  model = await loadModel(undefined, { backend: 'wasm' });
});
after(() => model.dispose());

const serve = (store: string, extra: Partial<ServerOptions> = {}): Promise<RunningServer> => serveStore(model, store, extra);

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(new URL(path, base), init);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

const QUESTIONS = [
  { id: 'py', text: 'What is the best way to learn Python programming?', category: 'code' },
  { id: 'js', text: 'How do I get started with JavaScript?', category: 'code' },
  { id: 'wt', text: 'How can I lose weight quickly and safely?', category: 'health' },
];

describe('HTTP API on a real server', () => {
  let server: RunningServer;
  let base: string;
  after(async () => server.close());
  const store = tempDir(after);

  before(async () => {
    server = await serve(store);
    base = server.url;
    for (const q of QUESTIONS) assert.equal((await call(base, 'POST', '/v1/questions', q)).status, 201);
  });

  test('POST /v1/questions stores, returns prior duplicates, and 409s on a known id', async () => {
    const created = await call(base, 'POST', '/v1/questions', { text: 'What is the best way to learn Python programming?' });
    assert.equal(created.status, 201);
    assert.equal(typeof created.json.id, 'string');
    assert.ok(created.json.duplicates.some((d: { id: string }) => d.id === 'py'), 'the identical stored question is reported');
    const again = await call(base, 'POST', '/v1/questions', { id: 'py', text: 'anything' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'CONFLICT');
  });

  test('GET and DELETE /v1/questions/:id', async () => {
    const got = await call(base, 'GET', '/v1/questions/js');
    assert.equal(got.status, 200);
    assert.equal(got.json.text, QUESTIONS[1].text);
    assert.equal(got.json.category, 'code');
    assert.equal((await call(base, 'GET', '/v1/questions/nope')).status, 404);
    const tmp = await call(base, 'POST', '/v1/questions', { id: 'tmp', text: 'A question to delete soon' });
    assert.equal(tmp.status, 201);
    assert.equal((await call(base, 'DELETE', '/v1/questions/tmp')).status, 200);
    assert.equal((await call(base, 'GET', '/v1/questions/tmp')).status, 404);
    assert.equal((await call(base, 'DELETE', '/v1/questions/tmp')).status, 404);
    const dup = await call(base, 'POST', '/v1/duplicates', { text: 'A question to delete soon', mode: 'dense', k: 10 });
    assert.ok(!dup.json.matches.some((m: { id: string }) => m.id === 'tmp'), 'deleted questions are not returned');
  });

  test('POST /v1/duplicates flags a stored question and honours category', async () => {
    const r = await call(base, 'POST', '/v1/duplicates', { text: QUESTIONS[2].text, k: 3 });
    assert.equal(r.status, 200);
    assert.equal(r.json.isDuplicate, true);
    assert.equal(r.json.matches[0].id, 'wt');
    assert.ok(r.json.matches[0].energy < 1e-3);
    assert.equal(r.json.decision.operatingPoint, 'precise');
    assert.equal(typeof r.json.decision.threshold, 'number');
    const code = await call(base, 'POST', '/v1/duplicates', { text: QUESTIONS[2].text, k: 3, category: 'code' });
    assert.ok(code.json.matches.every((m: { category: string }) => m.category === 'code'));
  });

  test('POST /v1/similarity', async () => {
    const same = await call(base, 'POST', '/v1/similarity', { a: 'How do I cook rice?', b: 'How do I cook rice?' });
    assert.equal(same.status, 200);
    assert.ok(same.json.energy < 1e-3);
    assert.equal(same.json.isDuplicate, true);
    assert.ok(same.json.probability > 0.5);
  });

  test('GET /v1/suggest is prefix-aware and cached', async () => {
    const r = await call(base, 'GET', '/v1/suggest?q=learn%20pyth&k=2');
    assert.equal(r.status, 200);
    assert.equal(r.json.suggestions.length, 2);
    assert.ok(r.json.suggestions.some((s: { id: string }) => s.id === 'py'), 'the half-typed word matches by prefix');
    assert.deepEqual((await call(base, 'GET', '/v1/suggest?q=learn%20pyth&k=2')).json, r.json);
    assert.deepEqual((await call(base, 'GET', '/v1/suggest?q=a')).json, { suggestions: [], decision: { threshold: model.operatingPoints.precise.threshold, operatingPoint: 'precise', decidedBy: 'verdict' } });
    assert.equal((await call(base, 'GET', '/v1/suggest?q=learn&k=0')).status, 400);
    assert.equal((await call(base, 'GET', '/v1/suggest')).status, 400);
  });

  test('POST /v1/feedback takes texts or ids', async () => {
    const byText = await call(base, 'POST', '/v1/feedback', { a: 'x one', b: 'x two', isDuplicate: false });
    assert.equal(byText.status, 201);
    const byId = await call(base, 'POST', '/v1/feedback', { aId: 'py', bId: 'js', isDuplicate: false });
    assert.equal(byId.status, 201);
    assert.equal((await call(base, 'POST', '/v1/feedback', { aId: 'missing', b: 'x', isDuplicate: true })).status, 404);
    assert.equal((await call(base, 'POST', '/v1/feedback', { a: 'x', isDuplicate: true })).status, 400);
  });

  test('errors are JSON with the right status', async () => {
    const cases: [string, string, unknown, number, Record<string, string>?][] = [
      ['POST', '/v1/duplicates', {}, 400],
      ['POST', '/v1/duplicates', { text: '   ' }, 400],
      ['POST', '/v1/duplicates', { text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }, 400],
      ['POST', '/v1/duplicates', { text: 42 }, 400],
      ['POST', '/v1/duplicates', { text: 'ok', k: 0 }, 400],
      ['POST', '/v1/duplicates', { text: 'ok', k: 'ten' }, 400],
      ['POST', '/v1/duplicates', { text: 'ok', mode: 'fuzzy' }, 400],
      ['POST', '/v1/duplicates', '{"text": ', 400],
      ['POST', '/v1/duplicates', { text: 'x'.repeat(70_000) }, 413],
      ['POST', '/v1/duplicates', 'text=hello', 415, { 'content-type': 'application/x-www-form-urlencoded' }],
      ['GET', '/v1/nothing-here', undefined, 404],
    ];
    for (const [method, path, body, status, headers] of cases) {
      const r = await call(base, method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)} -> ${r.text.slice(0, 120)}`);
      assert.equal(typeof r.json?.error?.code, 'string');
      assert.equal(typeof r.json?.error?.message, 'string');
    }
  });

  test('concurrent writes lose no question', async () => {
    const before = (await call(base, 'GET', '/healthz')).json.questions;
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => call(base, 'POST', '/v1/questions', { id: `c${i}`, text: `Concurrent question number ${i} about topic ${i % 7}` })));
    assert.deepEqual(results.map((r) => r.status), new Array(30).fill(201));
    assert.equal((await call(base, 'GET', '/healthz')).json.questions, before + 30);
    for (let i = 0; i < 30; i++) assert.equal((await call(base, 'GET', `/v1/questions/c${i}`)).status, 200);
  });

  test('/healthz, /metrics and /openapi.json', async () => {
    const health = await call(base, 'GET', '/healthz');
    assert.equal(health.json.status, 'ok');
    const metrics = await call(base, 'GET', '/metrics');
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.text, /doppel_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/v1\/duplicates",status="200"\} \d+/);
    assert.match(metrics.text, /doppel_http_requests_total\{method="POST",route="\/v1\/questions",status="201"\} \d+/);
    assert.match(metrics.text, /doppel_index_questions \d+/);
    assert.match(metrics.text, /doppel_store_deleted_questions \d+/);
    assert.match(metrics.text, /doppel_feedback_pairs \d+/);
    assert.match(metrics.text, /doppel_model_info\{model="[0-9a-f]+",energy="\w+",encoder="[^"]+"\} 1/);
    // prom-client's default process metrics come along.
    assert.match(metrics.text, /^process_cpu_seconds_total \d/m);
    assert.match(metrics.text, /^nodejs_eventloop_lag_seconds \d/m);
    const doc = (await call(base, 'GET', '/openapi.json')).json;
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc, JSON.parse(JSON.stringify(openApiDocument('test'))));
    // test/openapi.test.ts checks the document's routes against the app's and every response against the document.
  });

  test('a restart keeps every question and the index', async () => {
    await server.close();
    server = await serve(store);
    base = server.url;
    assert.equal((await call(base, 'GET', '/v1/questions/py')).status, 200);
    assert.equal((await call(base, 'GET', '/v1/questions/c29')).status, 200);
    const r = await call(base, 'POST', '/v1/duplicates', { text: QUESTIONS[0].text, mode: 'dense' });
    assert.equal(r.json.matches[0].energy < 1e-3, true);
  });
});

describe('auth and rate limits', () => {
  test('DOPPEL_API_KEY guards writes only', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)), { apiKey: 's3cret' });
    try {
      const q = { id: 'a', text: 'Is this guarded?' };
      assert.equal((await call(server.url, 'POST', '/v1/questions', q)).status, 401);
      assert.equal((await call(server.url, 'POST', '/v1/questions', q, { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await call(server.url, 'POST', '/v1/questions', q, { authorization: 'Bearer s3cret' })).status, 201);
      assert.equal((await call(server.url, 'DELETE', '/v1/questions/a')).status, 401);
      assert.equal((await call(server.url, 'POST', '/v1/feedback', { a: 'x', b: 'y', isDuplicate: true })).status, 401);
      assert.equal((await call(server.url, 'POST', '/v1/duplicates', { text: 'Is this guarded?' })).status, 200);
      assert.equal((await call(server.url, 'GET', '/v1/questions/a')).status, 200);
    } finally {
      await server.close();
    }
  });

  test('429 past the rate limit', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)), { rateLimit: { rate: 1, burst: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(server.url, 'GET', '/v1/suggest?q=hello')).status);
      assert.deepEqual(statuses.slice(0, 2), [200, 200]);
      assert.equal(statuses[3], 429);
    } finally {
      await server.close();
    }
  });
});

describe('hardening: auth follows routing', () => {
  test('every case and trailing-slash variant of a write route needs the key', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)), { apiKey: 's3cret' });
    try {
      assert.equal((await call(server.url, 'POST', '/v1/questions', { id: 'keep', text: 'A stored question' }, { authorization: 'Bearer s3cret' })).status, 201);
      const health = async () => (await call(server.url, 'GET', '/healthz')).json.questions;
      const before = await health();
      const writes: [string, string, unknown][] = [
        ['POST', '/v1/Questions/', { text: 'Sneaked in?' }],
        ['POST', '/V1/QUESTIONS', { text: 'Sneaked in?' }],
        ['POST', '/v1/questions/', { text: 'Sneaked in?' }],
        ['POST', '/v1/FEEDBACK/', { a: 'x', b: 'y', isDuplicate: true }],
        ['POST', '/v1/Feedback', { a: 'x', b: 'y', isDuplicate: true }],
        ['DELETE', '/v1/Questions/keep/', undefined],
        ['DELETE', '/V1/QUESTIONS/keep', undefined],
      ];
      const keys = [undefined, 'Bearer wrong', 'Bearer s3cre', 'Bearer s3cretX', 's3cret', 'Basic czNjcmV0', 'Bearer S3CRET'];
      for (const [method, path, body] of writes) {
        for (const key of keys) {
          const r = await call(server.url, method, path, body, key ? { authorization: key } : {});
          assert.equal(r.status, 401, `${method} ${path} with ${key ?? 'no key'}`);
          assert.equal(r.json.error.code, 'UNAUTHORIZED');
          assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
        }
        // Refused before the content type or the body is looked at.
        assert.equal((await call(server.url, method, path, 'not json', { 'content-type': 'text/plain' })).status, 401);
      }
      assert.equal(await health(), before, 'nothing was written');
      assert.equal((await call(server.url, 'GET', '/v1/questions/keep')).status, 200, 'nothing was deleted');
      // With the key the variants reach the same routes ("bearer" in any case is the same scheme).
      assert.equal((await call(server.url, 'POST', '/v1/Questions/', { id: 'v', text: 'Variant path write' }, { authorization: 'bearer s3cret' })).status, 201);
      assert.equal((await call(server.url, 'DELETE', '/V1/questions/v/', undefined, { authorization: 'Bearer s3cret' })).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('hardening: bounded memory', () => {
  test('/metrics labels come from declared routes only, whatever paths clients make up', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)), { apiKey: 's3cret', rateLimit: { rate: 0.001, burst: 20 } });
    try {
      // The app's own series (doppel_*) are where client-chosen labels could land; the process
      // metrics from prom-client have label sets of their own, small and fixed (GC kind: major,
      // minor, incremental, weakcb; active handle and resource types), that fill in as the
      // process runs, so they get a bound of their own.
      const size = async () => {
        const text = (await call(server.url, 'GET', '/metrics')).text;
        return { all: Buffer.byteLength(text), app: Buffer.byteLength(text.split('\n').filter((l) => /^(# (HELP|TYPE) )?doppel_/.test(l)).join('\n')) };
      };
      await call(server.url, 'POST', '/v1/questions', { text: 'x' }); // 401
      await call(server.url, 'POST', '/v1/duplicates', 'x', { 'content-type': 'text/plain' }); // 415
      await call(server.url, 'PROPFIND', '/v1/nowhere');
      const junk = Array.from({ length: 330 }, (_, i) => `/v1/x${i}q${Math.random().toString(36).slice(2)}`);
      const statuses = new Set<number>();
      let before = { all: 0, app: 0 };
      for (const [i, path] of junk.entries()) {
        // The first 30 reach every series these requests can make (404 and, once the burst is
        // spent, 429 for GET and POST); the other 300 must add none.
        if (i === 30) {
          await size(); // the first /metrics request adds its own series
          before = await size();
        }
        const method = i % 3 === 2 ? 'GET' : 'POST';
        const r = await call(server.url, method, i % 2 ? path : path.toUpperCase() + '/', method === 'POST' ? 'x' : undefined, { 'content-type': 'text/plain' });
        statuses.add(r.status);
      }
      assert.ok(statuses.has(429), 'the limiter answered some of them');
      const text = (await call(server.url, 'GET', '/metrics')).text;
      assert.ok(!/route="[^"]*x\d+q/i.test(text), 'no made-up path is a label');
      assert.ok(text.includes('route="unmatched"'));
      assert.ok(text.includes('method="other"'), 'unknown methods are folded');
      const after = await size();
      assert.ok(after.app - before.app < 500, `the doppel_* metrics grew from ${before.app} to ${after.app} bytes`);
      assert.ok(after.all - before.all < 4000, `/metrics grew from ${before.all} to ${after.all} bytes`);
    } finally {
      await server.close();
    }
  });

  test('the rate limiter evicts the least recently seen clients, not every bucket', () => {
    const limiter = new RateLimiter(1, 2, 100);
    let now = 0;
    assert.equal(limiter.take('hot', now), 0);
    assert.equal(limiter.take('hot', now), 0);
    assert.ok(limiter.take('hot', now) > 0, 'the burst is spent');
    for (let i = 0; i < 1000; i++) {
      now += 0.01; // 10 s in all: hot refills at most 1 token a second, it asks 100 a second
      limiter.take(`new-${i}`, now);
      if (i % 10 === 0) limiter.take('hot', now);
      assert.ok(limiter.size <= 100);
    }
    assert.ok(limiter.take('hot', now) > 0, 'a flood of new addresses did not reset a limited client');
    assert.equal(limiter.take('new-0', now), 0, 'an evicted client starts with a full bucket');
  });

  test('the suggestion cache is bounded in entries and in characters', () => {
    const cache = new LruCache<string>(100, { maxWeight: 10_000, weigh: (k, v) => k.length + v.length });
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, 'v'.repeat(i % 300));
    assert.ok(cache.size <= 100);
    assert.ok(cache.weight <= 10_000);
    cache.set('huge', 'x'.repeat(20_000));
    assert.equal(cache.get('huge'), undefined, 'an entry over the whole budget is not kept');
    assert.ok(cache.weight <= 10_000);
    cache.set('a', '1');
    cache.set('a', '22');
    assert.equal(cache.get('a'), '22');
    const plain = new LruCache<number>(3);
    for (let i = 0; i < 10; i++) plain.set(String(i), i);
    assert.equal(plain.size, 3);
    assert.equal(plain.get('0'), undefined);
    assert.equal(plain.get('9'), 9);
  });
});

/** Opens a raw TCP connection and resolves once it is established. */
function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves with whether the socket was closed by the other side within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

describe('hardening: the server stays up and shuts down', () => {
  test('socket errors after start are logged, not fatal', async (t) => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const server = await serve(tempDir((fn) => t.after(fn)), { logger: pino({ level: 'error' }, sink) });
    try {
      const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
      assert.doesNotThrow(() => {
        server.server.emit('error', emfile);
        server.server.emit('error', emfile);
        server.server.emit('error', emfile);
      });
      assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);
      assert.ok(lines.filter((l) => l.includes('EMFILE')).length >= 2, 'the errors were logged');
    } finally {
      await server.close();
    }
  });

  test('close() finishes within the shutdown deadline while a client holds its connection', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)), { shutdownTimeoutMs: 300 });
    const sockets: Socket[] = [];
    try {
      // A request whose body never finishes (the server is waiting for 100 bytes) ...
      const slow = await rawSocket(server.url);
      slow.write('POST /v1/duplicates HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"te');
      // ... and one whose headers never finish.
      const dribble = await rawSocket(server.url);
      dribble.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      sockets.push(slow, dribble);
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      const outcome = await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 5000))]);
      const ms = performance.now() - started;
      assert.equal(outcome, 'closed');
      assert.ok(ms < 3000, `close took ${Math.round(ms)} ms`);
      assert.ok(await closedWithin(slow, 1000), 'the held connection was cut');
    } finally {
      server.server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await server.close();
    }
  });

  test('the index is saved and closed at the deadline: a restart finds what was written', async (t) => {
    const store = tempDir((fn) => t.after(fn));
    let server = await serve(store, { shutdownTimeoutMs: 200 });
    assert.equal((await call(server.url, 'POST', '/v1/questions', { id: 'late', text: 'Written just before a forced shutdown' })).status, 201);
    const held = await rawSocket(server.url);
    try {
      held.write('POST /v1/similarity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 5000))]), 'closed');
    } finally {
      held.destroy();
      server.server.closeAllConnections();
      await server.close();
    }
    server = await serve(store);
    try {
      assert.equal((await call(server.url, 'GET', '/v1/questions/late')).status, 200);
    } finally {
      await server.close();
    }
  });

  test('connections past maxConnections are dropped at accept', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)), { maxConnections: 2 });
    const sockets: Socket[] = [];
    try {
      assert.equal(server.server.maxConnections, 2);
      sockets.push(await rawSocket(server.url), await rawSocket(server.url));
      await new Promise((r) => setTimeout(r, 50));
      const third = await rawSocket(server.url);
      sockets.push(third);
      assert.ok(await closedWithin(third, 2000), 'the third connection was dropped');
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await call(server.url, 'GET', '/healthz')).status, 200, 'new connections are served once others close');
    } finally {
      for (const s of sockets) s.destroy();
      await server.close();
    }
  });

  test('the default maxConnections is finite', async (t) => {
    const server = await serve(tempDir((fn) => t.after(fn)));
    try {
      assert.equal(server.server.maxConnections, 1024);
      assert.ok(server.server.headersTimeout > 0 && server.server.headersTimeout <= 10_000);
      assert.ok(server.server.requestTimeout > 0 && server.server.requestTimeout <= 30_000);
    } finally {
      await server.close();
    }
  });

  test('listening beyond loopback without keys logs a warning', async (t) => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '::ffff:10.0.0.1']) assert.ok(!isLoopbackHost(h), h);
    const warnings = async (host: string, apiKey?: string) => {
      const lines: string[] = [];
      const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
      const server = await serve(tempDir((fn) => t.after(fn)), { host, apiKey, logger: pino({ level: 'warn' }, sink) });
      await server.close();
      return lines.filter((l) => l.includes('without API keys')).length;
    };
    assert.equal(await warnings('0.0.0.0'), 1);
    assert.equal(await warnings('0.0.0.0', 'k'), 0);
    assert.equal(await warnings('127.0.0.1'), 0);
  });
});

describe('hardening: odd input is a 4xx, never a 5xx', () => {
  let server: RunningServer;
  after(async () => server.close());
  const store = tempDir(after);
  before(async () => {
    server = await serve(store);
    for (const q of QUESTIONS) await call(server.url, 'POST', '/v1/questions', q);
  });

  test('FTS syntax, RTL and emoji are plain text; NUL and lone surrogates are refused', async () => {
    const texts = ['"', '*', 'NEAR(', 'NEAR(python learn, 2)', '^', '^learn', 'text:', 'text: python', 'questions_fts: x', '(((', 'a AND', 'NOT python', '-x +y', '\u0000', 'py\u0000thon', '\ud800', 'x\udfff', '\u202eRTL', 'שלום עולם', '🐱🐶', '👩‍👩‍👧‍👦'];
    for (const text of texts) {
      for (const mode of ['dense', 'lexical', 'hybrid']) {
        const r = await call(server.url, 'POST', '/v1/duplicates', { text, mode, category: text });
        assert.ok(r.status === 200 || r.status === 400, `${mode} ${JSON.stringify(text)} -> ${r.status} ${r.text.slice(0, 100)}`);
      }
      // A NUL or a lone surrogate is refused everywhere a question is (400, with a message); the rest is plain text.
      const expected = /\u0000|[\ud800-\udfff]/.test(text) && !/[\ud800-\udbff][\udc00-\udfff]/.test(text) ? 400 : 200;
      // A query string cannot carry a lone surrogate (it is UTF-8 bytes): suggest gets '?' in its place.
      const s = await call(server.url, 'GET', `/v1/suggest?q=${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?'))}x`);
      assert.equal(s.status, text.includes('\u0000') ? 400 : 200, `suggest ${JSON.stringify(text)}`);
      assert.equal((await call(server.url, 'POST', '/v1/similarity', { a: text, b: 'learn python' })).status, expected);
    }
  });

  test('bad bodies, encodings and paths', async () => {
    const depth = 20_000;
    const cases: [string, string, string | undefined, Record<string, string>, number][] = [
      ['POST', '/v1/duplicates', '['.repeat(depth) + ']'.repeat(depth), {}, 400],
      ['POST', '/v1/duplicates', '{"text":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}', {}, 400],
      ['POST', '/v1/duplicates', '{"text": "\\ud800"}', {}, 400],
      ['POST', '/v1/duplicates', 'null', {}, 400],
      ['POST', '/v1/duplicates', '"text"', {}, 400],
      ['POST', '/v1/duplicates', '{"text": "x"}', { 'content-type': 'application/json; charset=latin1' }, 415],
      ['POST', '/v1/duplicates', '{"text": "x"}', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400],
      ['POST', '/v1/duplicates', '{"text": "x"}', { 'content-type': 'application/json', 'content-encoding': 'bogus' }, 415],
      ['POST', '/v1/duplicates', undefined, { 'content-type': 'application/json' }, 400],
      ['POST', '/v1/duplicates', undefined, {}, 415],
      ['POST', '/v1/nowhere', '{}', {}, 404],
      ['GET', '/v1/questions/%E0%A4%A', undefined, {}, 400],
      ['GET', '/v1/questions/%00', undefined, {}, 400],
      ['GET', '/v1/suggest?q=%ff', undefined, {}, 400],
      ['GET', '/v1/suggest?q=a&q=b', undefined, {}, 400],
      ['GET', '/assets/%2e%2e/package.json', undefined, {}, 404],
    ];
    for (const [method, path, body, headers, status] of cases) {
      const r = await call(server.url, method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path} ${body?.slice(0, 30)} ${JSON.stringify(headers)} -> ${r.text.slice(0, 120)}`);
      assert.equal(typeof r.json?.error?.code === 'string' || r.status === 200, true);
    }
  });
});
