import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { DuplicateIndex } from '../src/index/duplicate-index.js';
import { loadModel, type Model } from '../src/model/load.js';
import { openApiDocument } from '../src/service/openapi.js';
import { type RunningServer, startServer } from '../src/service/server.js';
import { MAX_TEXT_LENGTH } from '../src/text/validate.js';
import { tempDir } from './helpers.js';

const logger = pino({ level: 'silent' });
let model: Model;

before(async () => {
  model = await loadModel(undefined, { backend: 'wasm' });
});
after(() => model.dispose());

async function serve(store: string, extra: { apiKey?: string; rateLimit?: { rate: number; burst: number } } = {}): Promise<RunningServer> {
  const index = await DuplicateIndex.open(store, { model });
  return startServer(index, { host: '127.0.0.1', port: 0, logger, version: 'test', ...extra });
}

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
    assert.equal(typeof r.json.threshold, 'number');
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
    assert.deepEqual((await call(base, 'GET', '/v1/suggest?q=a')).json, { suggestions: [] });
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
    assert.match(metrics.text, /doppel_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/duplicates",le="0.005"\} \d+/);
    assert.match(metrics.text, /doppel_index_questions \d+/);
    assert.match(metrics.text, /doppel_model_info\{model="[0-9a-f]+",energy="\w+",encoder="[^"]+"\} 1/);
    const doc = (await call(base, 'GET', '/openapi.json')).json;
    assert.equal(doc.openapi, '3.0.3');
    assert.deepEqual(doc, JSON.parse(JSON.stringify(openApiDocument('test'))));
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const routes = (server.server.listeners('request')[0] as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack
      .filter((l) => l.route && l.route.path !== '/')
      .flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${l.route!.path}`));
    assert.deepEqual(new Set(documented), new Set(routes));
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
