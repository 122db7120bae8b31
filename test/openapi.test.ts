/**
 * The OpenAPI document is generated from the zod schemas; these tests hold it to what the server
 * really does. A real server is called on every route with valid and invalid requests, and each
 * answer is checked against the document: its status is declared for that path and method, its
 * media type is declared for that status, its body validates (ajv, JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1) against the declared schema, and its declared headers are sent. The
 * routes in the document must be exactly the routes the Express app registers, and every status
 * the document declares (but 500) must have been seen, so neither side can drift from the other.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import pino from 'pino';
import { loadModel, type Model } from '../src/model/load.js';
import type { ReviewQueue } from '../src/search/review.js';
import { type DuplicateIndex, resolveStore } from '../src/search/stores.js';
import { createApp } from '../src/service/app.js';
import { API_OPERATIONS, openApiDocument, openApiPath } from '../src/service/openapi.js';
import { type RunningServer, type ServerOptions } from '../src/service/server.js';
import { MAX_TEXT_LENGTH } from '../src/text/validate.js';
import { createKey, ROOT, serveStore, tempDir } from './helpers.js';

const KEY = 'open-api-k3y';
const AUTH = { authorization: `Bearer ${KEY}` };
const DOC_ID = 'https://doppel.invalid/openapi.json';

type Doc = ReturnType<typeof openApiDocument>;
interface ResponseObject {
  description: string;
  headers?: Record<string, { schema: object }>;
  content: Record<string, { schema: object }>;
}
interface OperationObject {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, ResponseObject>;
  security?: unknown[];
}

/** A JSON Pointer segment (RFC 6901). */
const pointer = (...segments: string[]) => segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

let model: Model;
before(async () => {
  model = await loadModel(undefined, { backend: 'wasm' });
});
after(() => model.dispose());

const serve = (store: string, extra: Partial<ServerOptions> = {}): Promise<RunningServer> => serveStore(model, store, extra);

/** The routes the running Express app registers, as 'METHOD /pattern'. */
function registeredRoutes(model: Model): string[] {
  // The app as createApp builds it; the routes only read the index when a request comes.
  const { app } = createApp({ model, generation: undefined, observeStages: () => {} } as unknown as DuplicateIndex, { logger: pino({ level: 'silent' }), version: 'test', review: {} as ReviewQueue });
  return (app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack.filter((l) => l.route).flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${l.route!.path}`));
}

/** A validator of the document: compiles the schema at a JSON Pointer into it, with its $refs resolved inside the document. */
function documentValidator(doc: Doc) {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: true,
    allowUnionTypes: true,
    // zod writes a pattern next to format: date-time, so this check is a second one.
    formats: { 'date-time': (s: string) => !Number.isNaN(Date.parse(s)) },
  });
  // The document-level keys (openapi, info, paths, ...) are not JSON Schema keywords.
  ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components']);
  ajv.addSchema(doc, DOC_ID);
  const compiled = new Map<string, ValidateFunction>();
  return (at: string) => {
    let v = compiled.get(at);
    if (!v) compiled.set(at, (v = ajv.compile({ $ref: `${DOC_ID}#${at}` })));
    return v;
  };
}

interface Case {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route pattern this request is for ('/v1/questions/:id'). */
  route: string;
  /** The URL path sent, when it differs from the route. */
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** For a JSON body refused with 400: whether the document's request schema refuses it too (false: a rule JSON Schema cannot say, e.g. trimming). */
  schemaRefuses?: boolean;
}

describe('OpenAPI document (generated from the zod schemas) against the real server', () => {
  const doc = JSON.parse(JSON.stringify(openApiDocument('test'))) as Doc;
  const validatorAt = documentValidator(doc);
  const seen = new Set<string>();
  let server: RunningServer;
  let limited: RunningServer;
  let busy: RunningServer;
  let guarded: RunningServer;
  /** A search key, and one that may be used only from a page of another origin. */
  const keys = { search: { authorization: '' }, elsewhere: { authorization: '' } };
  // Registered first so it runs first: the servers save into the stores as they close.
  after(async () => {
    await server?.close();
    await limited?.close();
    await busy?.close();
    await guarded?.close();
  });
  const store = tempDir(after);
  const limitedStore = tempDir(after);
  const busyStore = tempDir(after);
  const guardedStore = tempDir(after);

  before(async () => {
    server = await serve(store, { apiKey: KEY });
    keys.search.authorization = `Bearer ${await createKey(store, 'search')}`;
    keys.elsewhere.authorization = `Bearer ${await createKey(store, 'search', { origin: 'https://forum.example' })}`;
    // Reads need a key, and /metrics an admin one.
    guarded = await serve(guardedStore, { apiKey: KEY, requireKey: true, protectMetrics: true });
    limited = await serve(limitedStore, { rateLimit: { rate: 0.001, burst: 1 } });
    // No slot and no queue: every request that would encode is refused, as under overload.
    busy = await serve(busyStore, { apiKey: KEY, admission: { concurrency: 0, queue: 0 } });
    for (const q of [
      { id: 'py', text: 'What is the best way to learn Python programming?', category: 'code' },
      { id: 'js', text: 'How do I get started with JavaScript?', category: 'code' },
      { id: 'plain', text: 'How can I lose weight quickly and safely?' },
      { id: 'doomed', text: 'A question that will be deleted' },
    ]) {
      const r = await fetch(new URL('/v1/questions', server.url), { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify(q) });
      assert.equal(r.status, 201);
    }
  });

  /** Sends one request and checks the answer against the document; returns the parsed body. */
  async function check(base: string, c: Case): Promise<unknown> {
    const op = (doc.paths as Record<string, Record<string, OperationObject>>)[openApiPath(c.route)]?.[c.method.toLowerCase()];
    assert.ok(op, `${c.method} ${c.route} is in the document`);
    const headers: Record<string, string> = { ...c.headers };
    let body: string | undefined;
    if (c.body !== undefined) {
      body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(new URL(c.path ?? c.route, base), { method: c.method, headers, body });
    const text = await res.text();
    const what = `${c.method} ${c.path ?? c.route} ${body?.slice(0, 60) ?? ''} -> ${res.status} ${text.slice(0, 200)}`;
    assert.equal(res.status, c.status, what);
    seen.add(`${c.method} ${c.route} ${res.status}`);

    const declared = op.responses[String(res.status)];
    assert.ok(declared, `status ${res.status} is declared for ${c.method} ${c.route} (${what})`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    assert.ok(declared.content[mediaType], `${mediaType} is declared for ${c.method} ${c.route} ${res.status}; declared: ${Object.keys(declared.content)}`);
    const validate = validatorAt(pointer('paths', openApiPath(c.route), c.method.toLowerCase(), 'responses', String(res.status), 'content', mediaType, 'schema'));
    // NDJSON: the schema is each line's.
    const ndjson = mediaType === 'application/x-ndjson';
    const value = mediaType === 'application/json' ? JSON.parse(text) : ndjson ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) : text;
    for (const v of ndjson ? (value as unknown[]) : [value]) assert.ok(validate(v), `${what}\n${JSON.stringify(validate.errors, null, 1)}`);
    for (const [name, h] of Object.entries(declared.headers ?? {})) {
      const raw = res.headers.get(name);
      assert.ok(raw !== null, `${name} header sent with ${res.status}`);
      const headerSchema = validatorAt(pointer('paths', openApiPath(c.route), c.method.toLowerCase(), 'responses', String(res.status), 'headers', name, 'schema'));
      const typed = (h.schema as { type?: string }).type === 'integer' || (h.schema as { type?: string }).type === 'number' ? Number(raw) : raw;
      assert.ok(headerSchema(typed), `${name}: ${raw} ${JSON.stringify(headerSchema.errors)}`);
    }

    // The request side: what the server took, the document's request schema takes too.
    if (op.requestBody?.content['application/json'] && c.body !== undefined && typeof c.body !== 'string' && !c.headers?.['content-type']) {
      const request = validatorAt(pointer('paths', openApiPath(c.route), c.method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'));
      if (res.status >= 200 && res.status < 300) assert.ok(request(c.body), `the document takes the body the server took: ${what}\n${JSON.stringify(request.errors)}`);
      if (c.schemaRefuses !== undefined) assert.equal(request(c.body), !c.schemaRefuses, `the document ${c.schemaRefuses ? 'refuses' : 'takes'} ${body?.slice(0, 80)}`);
    }
    return value;
  }

  test('the document is OpenAPI 3.1 and every schema in it compiles (strict ajv, 2020-12)', () => {
    assert.equal(doc.openapi, '3.1.0');
    for (const name of Object.keys(doc.components.schemas)) assert.ok(validatorAt(pointer('components', 'schemas', name)), name);
    const ids = API_OPERATIONS.map((o) => o.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, OperationObject>>)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const inPath = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        assert.deepEqual(inPath.sort(), templated.sort(), `${method} ${path}: path parameters`);
        for (const [status, r] of Object.entries(op.responses)) {
          assert.ok(r.description, `${method} ${path} ${status} has a description`);
          if (Number(status) >= 400) assert.deepEqual(r.content['application/json'].schema, { $ref: '#/components/schemas/Error' }, `${method} ${path} ${status} is an Error`);
        }
      }
    }
    // Every schema a route uses is described.
    for (const [name, s] of Object.entries(doc.components.schemas)) assert.equal(typeof (s as { description?: unknown }).description, 'string', `${name} has a description`);
  });

  test('the routes in the document are the routes the app registers', () => {
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    assert.equal(new Set(documented).size, documented.length);
    assert.deepEqual(new Set(documented), new Set(registeredRoutes(model)));
    // Every operation states its security: none (public), a key optional (reads), a key required (writes).
    const writes = new Set(['POST /v1/questions', 'POST /v1/questions/bulk', 'GET /v1/questions', 'PUT /v1/questions/:id', 'PATCH /v1/questions/:id', 'DELETE /v1/questions/:id', 'POST /v1/feedback', 'GET /metrics', 'GET /v1/review', 'POST /v1/review/:id', 'POST /v1/model/activate', 'POST /v1/model/rollback']);
    const reads = new Set(['POST /v1/duplicates', 'GET /v1/questions/:id', 'POST /v1/similarity', 'GET /v1/suggest', 'GET /v1/model']);
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, OperationObject>>)) {
      for (const [m, op] of Object.entries(ops)) {
        const route = `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`;
        assert.deepEqual(op.security, writes.has(route) ? [{ bearer: [] }] : reads.has(route) ? [{}, { bearer: [] }] : [], route);
      }
    }
  });

  test('redocly lint, recommended rules: no errors (a warning only where a route cannot answer 4xx)', async (t) => {
    const file = join(tempDir((fn) => t.after(fn)), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const cli = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, 'lint', '--format', 'json', file], { maxBuffer: 16 << 20, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } }).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; location: { pointer: string }[] }[] };
    assert.equal(report.totals.errors, 0, `${stderr}\n${JSON.stringify(report.problems.filter((p) => p.severity === 'error'), null, 1)}`);
    // The public routes outside /v1 (health, this document, the page and its scripts) have no 4xx to declare.
    const warned = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`);
    assert.deepEqual(new Set(warned.map((w) => w.split(' ')[0])), new Set(warned.length ? ['operation-4xx-response'] : []), warned.join('\n'));
  });

  test('/openapi.json serves the generated document', async () => {
    const served = await check(server.url, { method: 'GET', route: '/openapi.json', status: 200 });
    assert.deepEqual(served, doc);
  });

  test('every route, valid and invalid requests: statuses, media types, bodies and headers as declared', async () => {
    const big = 'x'.repeat(70_000);
    // One pair in the review queue, as a check the model was unsure of would leave it.
    const queue = await resolveStore(store).openReview(store);
    const queued = await queue
      .enqueue([{ a: { id: null, text: 'Which language should I learn first?' }, b: { id: 'py', text: 'What is the best way to learn Python programming?' }, probability: 0.5, threshold: 0.6 }])
      .then(() => queue.page(1))
      .then((p) => p.items[0].id)
      .finally(() => queue.close());
    const cases: Case[] = [
      // POST /v1/duplicates
      { method: 'POST', route: '/v1/duplicates', body: { text: 'What is the best way to learn Python programming?', k: 3 }, status: 200 },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'learn python', k: 10, mode: 'dense', category: 'code' }, status: 200 },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'learn python', mode: 'lexical' }, status: 200 },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'nothing like it at all', category: 'no-such-category' }, status: 200 },
      { method: 'POST', route: '/v1/duplicates', body: {}, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'ok', k: 0 }, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'ok', mode: 'fuzzy' }, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'ok', extra: 1 }, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/duplicates', body: { text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/duplicates', body: { text: '   ' }, status: 400, schemaRefuses: false },
      { method: 'POST', route: '/v1/duplicates', body: '{"text": ', status: 400 },
      { method: 'POST', route: '/v1/duplicates', body: { text: big }, status: 413 },
      { method: 'POST', route: '/v1/duplicates', body: 'text=hello', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
      // POST /v1/questions
      { method: 'POST', route: '/v1/questions', body: { id: 'fresh', text: 'How do I bake sourdough bread at home?', category: 'food' }, headers: AUTH, status: 201 },
      { method: 'POST', route: '/v1/questions', body: { text: 'What is the best way to learn Python programming?' }, headers: AUTH, status: 201 },
      { method: 'POST', route: '/v1/questions', body: { id: 'py', text: 'anything' }, headers: AUTH, status: 409 },
      { method: 'POST', route: '/v1/questions', body: { text: 'No key given' }, status: 401 },
      { method: 'POST', route: '/v1/questions', body: { text: 'Wrong key' }, headers: { authorization: 'Bearer nope' }, status: 401 },
      { method: 'POST', route: '/v1/questions', body: { text: '' }, headers: AUTH, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/questions', body: { text: 'ok', category: 7 }, headers: AUTH, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/questions', body: { text: big }, headers: AUTH, status: 413 },
      { method: 'POST', route: '/v1/questions', body: 'hello', headers: { ...AUTH, 'content-type': 'text/plain' }, status: 415 },
      // GET /v1/questions/:id
      { method: 'GET', route: '/v1/questions/:id', path: '/v1/questions/py', status: 200 },
      { method: 'GET', route: '/v1/questions/:id', path: '/v1/questions/plain', status: 200 },
      { method: 'GET', route: '/v1/questions/:id', path: '/v1/questions/nope', status: 404 },
      { method: 'GET', route: '/v1/questions/:id', path: '/v1/questions/%E0%A4%A', status: 400 },
      // DELETE /v1/questions/:id
      { method: 'DELETE', route: '/v1/questions/:id', path: '/v1/questions/doomed', status: 401 },
      { method: 'DELETE', route: '/v1/questions/:id', path: '/v1/questions/doomed', headers: AUTH, status: 200 },
      { method: 'DELETE', route: '/v1/questions/:id', path: '/v1/questions/doomed', headers: AUTH, status: 404 },
      { method: 'DELETE', route: '/v1/questions/:id', path: '/v1/questions/%E0%A4%A', headers: AUTH, status: 400 },
      // POST /v1/similarity
      { method: 'POST', route: '/v1/similarity', body: { a: 'How do I cook rice?', b: 'How do I cook rice?' }, status: 200 },
      { method: 'POST', route: '/v1/similarity', body: { a: 'How do I cook rice?', b: 'Why is the sky blue?' }, status: 200 },
      { method: 'POST', route: '/v1/similarity', body: { a: 'only one side' }, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/similarity', body: { a: 'x', b: 'y\u0000' }, status: 400, schemaRefuses: false },
      { method: 'POST', route: '/v1/similarity', body: { a: big, b: 'y' }, status: 413 },
      { method: 'POST', route: '/v1/similarity', body: '{"a":"x","b":"y"}', headers: { 'content-type': 'text/plain' }, status: 415 },
      // GET /v1/suggest
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=learn%20pyth&k=2', status: 200 },
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=learn%20pyth&k=2', status: 200 }, // from the cache
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=how&category=code', status: 200 },
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=a', status: 200 },
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=learn&k=0', status: 400 },
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest', status: 400 },
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=a&q=b', status: 400 },
      { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=learn&unknown=1', status: 400 },
      // POST /v1/feedback
      { method: 'POST', route: '/v1/feedback', body: { a: 'x one', b: 'x two', isDuplicate: false }, headers: AUTH, status: 201 },
      { method: 'POST', route: '/v1/feedback', body: { aId: 'py', bId: 'js', isDuplicate: false }, headers: AUTH, status: 201 },
      { method: 'POST', route: '/v1/feedback', body: { a: 'learn python', bId: 'py', isDuplicate: true }, headers: AUTH, status: 201 },
      { method: 'POST', route: '/v1/feedback', body: { aId: 'missing', b: 'x', isDuplicate: true }, headers: AUTH, status: 404 },
      { method: 'POST', route: '/v1/feedback', body: { a: 'x', b: 'y', isDuplicate: true }, status: 401 },
      { method: 'POST', route: '/v1/feedback', body: { a: 'x', isDuplicate: true }, headers: AUTH, status: 400, schemaRefuses: false },
      { method: 'POST', route: '/v1/feedback', body: { a: 'x', b: 'y', isDuplicate: 'yes' }, headers: AUTH, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/feedback', body: { a: big, b: 'y', isDuplicate: true }, headers: AUTH, status: 413 },
      { method: 'POST', route: '/v1/feedback', body: 'a=x', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
      // PUT /v1/questions/:id (after 'doomed' was removed above)
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { text: 'How do I repot an orchid?', url: 'https://forum.example/q/1', metadata: { answers: 2 } }, headers: AUTH, status: 201 },
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { text: 'How should I repot an orchid?', url: 'https://forum.example/q/1' }, headers: AUTH, status: 200 },
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/doomed', body: { text: 'Back again?' }, headers: AUTH, status: 409 },
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { text: 'x', url: 'ftp://forum.example/q/1' }, headers: AUTH, status: 400, schemaRefuses: false },
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { text: 'x', metadata: [1, 2] }, headers: AUTH, status: 400, schemaRefuses: true },
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { text: big }, headers: AUTH, status: 413 },
      { method: 'PUT', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: 'text', headers: { ...AUTH, 'content-type': 'text/plain' }, status: 415 },
      // PATCH /v1/questions/:id
      { method: 'PATCH', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { category: 'plants', metadata: null }, headers: AUTH, status: 200 },
      { method: 'PATCH', route: '/v1/questions/:id', path: '/v1/questions/nope', body: { category: 'plants' }, headers: AUTH, status: 404 },
      { method: 'PATCH', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: {}, headers: AUTH, status: 400, schemaRefuses: false },
      { method: 'PATCH', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { text: 'not patchable' }, headers: AUTH, status: 400, schemaRefuses: true },
      { method: 'PATCH', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: { metadata: { big } }, headers: AUTH, status: 413 },
      { method: 'PATCH', route: '/v1/questions/:id', path: '/v1/questions/put-new', body: 'x', headers: { ...AUTH, 'content-type': 'text/plain' }, status: 415 },
      // GET /v1/questions
      { method: 'GET', route: '/v1/questions', path: '/v1/questions?limit=2', headers: AUTH, status: 200 },
      { method: 'GET', route: '/v1/questions', path: '/v1/questions?after=js&limit=1000', headers: AUTH, status: 200 },
      { method: 'GET', route: '/v1/questions', path: '/v1/questions?limit=0', headers: AUTH, status: 400 },
      // POST /v1/questions/bulk
      {
        method: 'POST',
        route: '/v1/questions/bulk',
        body: ['{"id":"b1","text":"How do I prune a bonsai?"}', 'not json', '{"id":"b2","text":""}', '', '{"id":"put-new","text":"How should I repot an orchid?","url":"https://forum.example/q/1"}'].join('\n'),
        headers: { ...AUTH, 'content-type': 'application/x-ndjson' },
        status: 200,
      },
      { method: 'POST', route: '/v1/questions/bulk', body: { id: 'b3', text: 'json, not ndjson' }, headers: AUTH, status: 415 },
      // Operations, the page, the widget and its client
      { method: 'GET', route: '/v1/model', status: 200 },
      { method: 'GET', route: '/healthz', status: 200 },
      { method: 'GET', route: '/metrics', status: 200 },
      { method: 'GET', route: '/openapi.json', status: 200 },
      { method: 'GET', route: '/widget.js', status: 200 },
      { method: 'GET', route: '/client.js', status: 200 },
      { method: 'GET', route: '/', status: 200 },
      { method: 'GET', route: '/review', status: 200 },
      // GET /v1/review and POST /v1/review/:id (an admin key)
      { method: 'GET', route: '/v1/review', path: '/v1/review?limit=5', headers: AUTH, status: 200 },
      { method: 'GET', route: '/v1/review', path: '/v1/review?limit=0', headers: AUTH, status: 400 },
      { method: 'POST', route: '/v1/review/:id', path: `/v1/review/${queued}`, body: { decision: 'different' }, headers: AUTH, status: 200 },
      { method: 'POST', route: '/v1/review/:id', path: `/v1/review/${queued}`, body: { decision: 'duplicate' }, headers: AUTH, status: 409 },
      { method: 'POST', route: '/v1/review/:id', path: '/v1/review/999999', body: { decision: 'skip' }, headers: AUTH, status: 404 },
      { method: 'POST', route: '/v1/review/:id', path: `/v1/review/${queued}`, body: { decision: 'maybe' }, headers: AUTH, status: 400, schemaRefuses: true },
      { method: 'POST', route: '/v1/review/:id', path: '/v1/review/first', body: { decision: 'skip' }, headers: AUTH, status: 400 },
      { method: 'POST', route: '/v1/review/:id', path: `/v1/review/${queued}`, body: { decision: big }, headers: AUTH, status: 413 },
      { method: 'POST', route: '/v1/review/:id', path: `/v1/review/${queued}`, body: 'decision=skip', headers: { ...AUTH, 'content-type': 'text/plain' }, status: 415 },
    ];
    for (const c of cases) await check(server.url, c);

    // POST /v1/model/activate and /v1/model/rollback: another model in and out of service, one activation at a time.
    const activate = (body: unknown, extra: Partial<Case> & { status: number }): Case => ({ method: 'POST', route: '/v1/model/activate', body, headers: AUTH, ...extra });
    await check(server.url, activate({}, { status: 400, schemaRefuses: true }));
    await check(server.url, activate({ model: '/no/such/model' }, { status: 400 }));
    await check(server.url, activate({ model: big }, { status: 413 }));
    await check(server.url, activate('model=x', { headers: { ...AUTH, 'content-type': 'text/plain' }, status: 415 }));
    await check(server.url, { method: 'POST', route: '/v1/model/rollback', headers: AUTH, status: 409 });
    await check(server.url, activate({ model: join(ROOT, 'data/models/default/retriever') }, { status: 202 }));
    await check(server.url, activate({ model: join(ROOT, 'data/models/default/retriever') }, { status: 409 }));
    const settled = async () => {
      for (;;) {
        const info = (await check(server.url, { method: 'GET', route: '/v1/model', status: 200 })) as { activation: { state: string } | null };
        if (info.activation && ['done', 'failed'].includes(info.activation.state)) return info.activation.state;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    assert.equal(await settled(), 'done');
    await check(server.url, { method: 'POST', route: '/v1/model/rollback', headers: AUTH, status: 202 });
    assert.equal(await settled(), 'done');

    // Keys: a key that is not valid is refused on every route that takes one (401); a search key
    // on a write route, or a key used away from its origin, is forbidden (403).
    for (const op of API_OPERATIONS.filter((o) => o.scope)) {
      const path = op.path.replace(':id', 'py');
      const base = op.path === '/metrics' ? guarded.url : server.url;
      const body = op.body ? { text: 'x' } : undefined;
      await check(base, { method: op.method.toUpperCase() as Case['method'], route: op.path, path, body, headers: { authorization: 'Bearer not-a-key' }, status: 401 });
      const forbidden = op.path === '/metrics' ? { authorization: `Bearer ${await createKey(guardedStore, 'write')}` } : op.scope === 'search' ? keys.elsewhere : keys.search;
      await check(base, { method: op.method.toUpperCase() as Case['method'], route: op.path, path, body, headers: forbidden, status: 403 });
    }
    await check(guarded.url, { method: 'GET', route: '/metrics', headers: AUTH, status: 200 });
    await check(server.url, { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=learn', headers: keys.search, status: 200 });

    // Behind the rate limiter (burst 1): the first request passes, every later one is a 429 on every /v1 route.
    await check(limited.url, { method: 'GET', route: '/v1/suggest', path: '/v1/suggest?q=hello', status: 200 });
    const v1 = API_OPERATIONS.filter((o) => o.path.startsWith('/v1/'));
    for (const op of v1) {
      const path = op.path.replace(':id', 'py');
      await check(limited.url, { method: op.method.toUpperCase() as Case['method'], route: op.path, path, body: op.body ? { text: 'x', a: 'x', b: 'y', isDuplicate: true } : undefined, status: 429 });
    }

    // Overloaded: the routes that encode answer 503 with Retry-After.
    const valid: Record<string, { path?: string; body?: unknown }> = {
      '/v1/duplicates': { body: { text: 'hello' } },
      '/v1/questions': { body: { text: 'hello' } },
      '/v1/similarity': { body: { a: 'hello', b: 'world' } },
      '/v1/suggest': { path: '/v1/suggest?q=hello' },
      '/v1/questions/:id': { path: '/v1/questions/busy-new', body: { text: 'hello' } },
    };
    for (const op of API_OPERATIONS.filter((o) => o.responses[503])) {
      await check(busy.url, { method: op.method.toUpperCase() as Case['method'], route: op.path, ...valid[op.path], headers: AUTH, status: 503 });
    }

    // A path no route matches is a 404 with the same Error body.
    const res = await fetch(new URL('/v1/no-such-route', server.url));
    assert.equal(res.status, 404);
    const errorSchema = validatorAt(pointer('components', 'schemas', 'Error'));
    assert.ok(errorSchema(await res.json()), JSON.stringify(errorSchema.errors));

    // Every status the document declares was seen (500 aside: nothing a client sends should cause it).
    const missing = API_OPERATIONS.flatMap((op) =>
      Object.keys(op.responses)
        .filter((s) => s !== '500')
        .map((s) => `${op.method.toUpperCase()} ${op.path} ${s}`)
        .filter((k) => !seen.has(k)),
    );
    assert.deepEqual(missing, [], 'declared statuses the test never saw');
  });

  test('responses carry what the schemas promise (not just their shape)', async () => {
    const sim = (await check(server.url, { method: 'POST', route: '/v1/similarity', body: { a: 'How do I cook rice?', b: 'How do I cook rice?' }, status: 200 })) as Record<string, unknown>;
    assert.deepEqual(Object.keys(sim).sort(), ['decision', 'energy', 'isDuplicate', 'probability']);
    assert.deepEqual(sim.decision, { threshold: model.operatingPoints.precise.threshold, operatingPoint: 'precise', decidedBy: 'verdict' });
    const chosen = (await check(server.url, { method: 'POST', route: '/v1/similarity', body: { a: 'How do I cook rice?', b: 'How do I cook pasta?', minProbability: 0.25 }, status: 200 })) as { decision: object; probability: number; isDuplicate: boolean };
    assert.deepEqual(chosen.decision, { threshold: 0.25, operatingPoint: 'custom', decidedBy: 'verdict' });
    assert.equal(chosen.isDuplicate, chosen.probability >= 0.25);
    const info = (await check(server.url, { method: 'GET', route: '/v1/model', status: 200 })) as { operatingPoints: Record<string, { threshold: number }>; defaultOperatingPoint: string };
    assert.equal(info.defaultOperatingPoint, 'precise');
    assert.ok(info.operatingPoints.recall.threshold <= info.operatingPoints.balanced.threshold && info.operatingPoints.balanced.threshold <= info.operatingPoints.precise.threshold);
    const why = (await check(server.url, { method: 'POST', route: '/v1/similarity', body: { a: 'How do I cook rice?', b: 'What is the best way to cook rice?', explain: true }, status: 200 })) as { explanation: { alignment: { pairs: { a: string }[] } } };
    assert.ok(why.explanation.alignment.pairs.some((p) => p.a === 'rice'), 'the shared word carries similarity');
    const dup = (await check(server.url, { method: 'POST', route: '/v1/duplicates', body: { text: 'How do I cook rice?', k: 2, explain: true }, status: 200 })) as { matches: { explanation?: object }[] };
    assert.ok(dup.matches.length > 0 && dup.matches.every((m) => m.explanation));
    const created = (await check(server.url, { method: 'POST', route: '/v1/questions', body: { text: 'How do I get started with JavaScript?' }, headers: AUTH, status: 201 })) as { duplicates: { id: string }[] };
    assert.ok(created.duplicates.some((d) => d.id === 'js'));
    const plain = (await check(server.url, { method: 'GET', route: '/v1/questions/:id', path: '/v1/questions/plain', status: 200 })) as { category: unknown };
    assert.equal(plain.category, null);
  });
});
