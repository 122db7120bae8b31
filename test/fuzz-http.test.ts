/**
 * Seeded HTTP fuzzing of a real server with an API key: odd methods, case and trailing-slash
 * variants of every route, wrong content types, malformed and deeply nested JSON, wrong types,
 * oversized and empty strings, NUL, lone surrogates, emoji, RTL text and FTS syntax, with the
 * key, without it and with a wrong one. The properties: no 5xx, every write without the right
 * key is a 401, the store is untouched, and /metrics and the heap stay bounded.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pino from 'pino';
import { DuplicateIndex } from '../src/search/stores.js';
import { databasePath } from '../src/search/directory/paths.js';
import { loadModel, type Model } from '../src/model/load.js';
import { type RunningServer, startServer } from '../src/service/server.js';
import { MAX_TEXT_LENGTH } from '../src/text/validate.js';
import { Random } from '../src/util/random.js';
import { tempDir } from './helpers.js';
import { usePglite } from './pglite-server.js';

const REQUESTS = Number(process.env.DOPPEL_FUZZ_REQUESTS ?? 2400);
const SEED = Number(process.env.DOPPEL_FUZZ_SEED ?? 20240611);
const CONCURRENCY = 8;
const KEY = 'fuzz-k3y-Secret';

const QUESTIONS = [
  { id: 'py', text: 'What is the best way to learn Python programming?', category: 'code' },
  { id: 'js', text: 'How do I get started with JavaScript?', category: 'code' },
  { id: 'wt', text: 'How can I lose weight quickly and safely?', category: 'health' },
  { id: 'ar', text: 'ما هي أفضل طريقة لتعلم البرمجة؟', category: 'intl' },
  { id: 'em', text: 'Why do cats 🐱 knock things off tables?', category: 'pets' },
];
const IDS = QUESTIONS.map((q) => q.id);

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A write route (by our own reading of the path) sent without the right key: must be 401. */
  mustBe401: boolean;
}

interface Answer {
  status: number;
  text: string;
}

function send(base: URL, agent: Agent, r: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, method: r.method, path: r.path, headers: r.headers, agent, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${r.method} ${r.path.slice(0, 80)}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** The generator: each call returns one request, drawn from the seeded PRNG. */
function makeGenerator(rng: Random, options: { alwaysKey?: boolean } = {}) {
  const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)];
  const chance = (p: number) => rng.next() < p;

  const nasty = [
    '', ' ', '\t\n ', '\u0000', 'a\u0000b', 'What\u0000 is NUL?', '\ud800', '\udfff', 'lone \ud83d surrogate', 'x\udc00y',
    '🐱🐶🦊 emoji only', '👩‍👩‍👧‍👦 family', '\u202eRTL override text', 'שלום עולם מה שלומך', 'ما هي أفضل طريقة لتعلم البرمجة؟',
    'e\u0301\u0301\u0301 combining', '\ufeffBOM first', '\uffff\ufffe nonchars', '"', '""', '"unbalanced', '*', 'pyth*', 'NEAR(', 'NEAR(a b',
    'NEAR(python learn, 2)', '^', '^start', 'text:', 'text: python', 'questions_fts:', '(', ')', '((((', 'a AND', 'OR', 'NOT python',
    '-python', '+python', '{text}: x', 'python AND NOT java OR "c++"', "'; DROP TABLE questions; --", '%', '%%', '\\', '\\u0000',
    '<script>alert(1)</script>', '${jndi:ldap://x}', '../../etc/passwd', 'a'.repeat(MAX_TEXT_LENGTH), 'b'.repeat(MAX_TEXT_LENGTH + 1),
    '🐱'.repeat(MAX_TEXT_LENGTH / 2), '🐱'.repeat(MAX_TEXT_LENGTH / 2 + 1), ' '.repeat(MAX_TEXT_LENGTH + 5), 'word '.repeat(399),
    'learn python', 'How do I get started with JavaScript?', 'How can I lose weight?',
  ];
  const randomText = () => {
    if (chance(0.7)) return pick(nasty);
    const n = rng.int(chance(0.1) ? 70_000 : 60);
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      s += r < 0.6 ? String.fromCharCode(32 + rng.int(95)) : r < 0.8 ? String.fromCharCode(rng.int(0x10000)) : pick(['🐱', '"', '*', '\u0000', ' ', 'ש']);
    }
    return s;
  };
  const wrongType = () => pick<unknown>([null, 42, -1, 1e308, true, false, [], ['x'], {}, { text: 'x' }, 'x', 0.5, '5']);
  const value = () => (chance(0.75) ? randomText() : wrongType());
  const maybe = (o: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (chance(0.8)) out[k] = v;
    if (chance(0.1)) out[pick(['extra', '__proto__', 'constructor', 'TEXT', ''])] = value();
    return out;
  };
  const shapes: Record<string, () => unknown> = {
    duplicates: () => maybe({ text: value(), k: chance(0.6) ? pick<unknown>([1, 5, 100, 101, 0, -3, 2.5, 'ten', null, 1e9]) : undefined, mode: pick<unknown>(['dense', 'lexical', 'hybrid', 'fuzzy', 3, undefined]), category: chance(0.3) ? value() : undefined }),
    questions: () => maybe({ id: chance(0.5) ? pick<unknown>([...IDS, 'new-id', '', 'x'.repeat(300), 7, null]) : undefined, text: value(), category: chance(0.3) ? value() : undefined }),
    similarity: () => maybe({ a: value(), b: value() }),
    replace: () => maybe({ text: value(), category: chance(0.3) ? value() : undefined, url: chance(0.3) ? pick<unknown>(['https://forum.example/q/1', 'javascript:alert(1)', 'not a url', '', 7, null]) : undefined, metadata: chance(0.3) ? pick<unknown>([{ n: 1 }, [], 'x', null, { big: 'x'.repeat(5000) }, { nul: '\u0000' }]) : undefined }),
    patch: () => maybe({ category: chance(0.5) ? pick<unknown>([value(), null]) : undefined, url: chance(0.5) ? pick<unknown>(['https://forum.example/q/2', 'ftp://x', null, 3]) : undefined, metadata: chance(0.5) ? pick<unknown>([{ a: 1 }, null, [1], 'x']) : undefined, text: chance(0.1) ? value() : undefined }),
    feedback: () =>
      chance(0.4)
        ? { [chance(0.5) ? 'a' : 'aId']: chance(0.5) ? randomText() : pick(IDS), [chance(0.5) ? 'b' : 'bId']: chance(0.5) ? randomText() : pick(IDS), isDuplicate: chance(0.5) }
        : maybe({ a: chance(0.5) ? value() : undefined, b: chance(0.5) ? value() : undefined, aId: chance(0.4) ? pick<unknown>([...IDS, 'missing', 5]) : undefined, bId: chance(0.4) ? pick<unknown>([...IDS, 'missing']) : undefined, isDuplicate: pick<unknown>([true, false, 'yes', 1, null, undefined]) }),
  };
  const nested = () => {
    const depth = pick([100, 1000, 10_000, 30_000]);
    const kind = rng.int(3);
    if (kind === 0) return '['.repeat(depth) + ']'.repeat(depth);
    if (kind === 1) return '{"text":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}';
    return '{"text":"x","k":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
  };
  const malformed = () =>
    pick([
      '', '{', '}', '{"text": ', '{"text": "x",}', "{'text': 'x'}", 'null', 'true', '"just a string"', '42', '[]', '[1,2,3]',
      '{"text": "x"}garbage', '{"text": "\\ud800"}', '{"text": "\\u0000"}', '{"text": "\\uZZZZ"}', '{"text": NaN}', '{"text": 1e999}',
      '\u0000', '{"text": "x", "text": "y"}', '{"__proto__": {"polluted": true}, "text": "x"}', 'text=hello',
    ]);

  // Every route, with the path params drawn from stored and made-up ids.
  const idSegment = () =>
    pick([...IDS, ...IDS, 'nope', '%00', '%ff', '%E0%A4%A', 'a%2Fb', '..', '%2e%2e', encodeURIComponent('\u0000'), encodeURIComponent('🐱'), 'x'.repeat(500), '%', '%25', "'", '*']);
  const routes: { method: string; path: () => string; write: boolean; json?: keyof typeof shapes }[] = [
    { method: 'POST', path: () => '/v1/duplicates', write: false, json: 'duplicates' },
    { method: 'POST', path: () => '/v1/questions', write: true, json: 'questions' },
    { method: 'GET', path: () => `/v1/questions/${idSegment()}`, write: false },
    { method: 'DELETE', path: () => `/v1/questions/${idSegment()}`, write: true },
    { method: 'POST', path: () => '/v1/similarity', write: false, json: 'similarity' },
    { method: 'GET', path: () => '/v1/suggest', write: false },
    { method: 'POST', path: () => '/v1/feedback', write: true, json: 'feedback' },
    { method: 'GET', path: () => '/healthz', write: false },
    { method: 'GET', path: () => '/metrics', write: false },
    { method: 'GET', path: () => '/openapi.json', write: false },
    { method: 'GET', path: () => '/', write: false },
    { method: 'GET', path: () => pick(['/assets/app.js', '/assets/style.css', '/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/nope', '/assets/%00']), write: false },
    { method: 'PUT', path: () => `/v1/questions/${idSegment()}`, write: true, json: 'replace' },
    { method: 'PATCH', path: () => `/v1/questions/${idSegment()}`, write: true, json: 'patch' },
    { method: 'POST', path: () => '/v1/questions/bulk', write: true, json: 'questions' },
    { method: 'GET', path: () => `/v1/questions${pick(['', '?limit=2', '?after=py&limit=1000', '?limit=0', '?after=%ff', '?after=' + 'x'.repeat(300)])}`, write: true },
    { method: 'GET', path: () => pick(['/widget.js', '/client.js']), write: false },
  ];
  const suggestRoute = routes[5];
  const junkPath = () => {
    const word = () => Math.floor(rng.next() * 2 ** 40).toString(36);
    return pick([
      () => `/v1/x${word()}`,
      () => `/${word()}/${word()}`,
      () => `/v1/questions/${word()}/${word()}`,
      () => `/v1//questions`,
      () => `/v1/%71uestions`,
      () => `/v1/questions%2F`,
      () => `//v1/questions`,
      () => `/V1/${word()}?a=${word()}`,
      () => `/${'a/'.repeat(rng.int(2000))}`,
      () => `/v1/x${word()}${'y'.repeat(rng.int(6000))}`,
      () => `/v1/suggest;${word()}`,
    ])();
  };
  /** Random case per letter, and sometimes a trailing slash. */
  const vary = (path: string) => {
    let out = '';
    for (const c of path) out += chance(0.3) ? (chance(0.5) ? c.toUpperCase() : c.toLowerCase()) : c;
    if (chance(0.4)) out += '/';
    return out;
  };
  const suggestQuery = () => {
    const parts: string[] = [];
    if (chance(0.9)) parts.push(`q=${chance(0.1) ? pick(['%ff', '%E0%A4%A', '%', '%00', '%ud800']) : encodeURIComponent(randomText().replace(/[\ud800-\udfff]/g, '\ufffd'))}`);
    if (chance(0.2)) parts.push(`q=${encodeURIComponent('second q')}`);
    if (chance(0.4)) parts.push(`k=${pick(['1', '5', '20', '21', '0', '-1', 'abc', '1e1', 'Infinity', '', '2.5'])}`);
    if (chance(0.2)) parts.push(`category=${encodeURIComponent(pick(['code', 'health', '', ' ', 'x'.repeat(300), '\u0000', '"']))}`);
    if (chance(0.1)) parts.push(pick(['q[x]=1', 'q[]=a', 'extra=1', '__proto__=1', '&&&', '=']));
    return parts.length ? `?${parts.join('&')}` : '';
  };
  const WRITE_PATH = [/^\/v1\/questions\/?$/i, /^\/v1\/questions\/bulk\/?$/i, /^\/v1\/feedback\/?$/i];
  const WRITE_DELETE = /^\/v1\/questions\/[^/]+\/?$/i;
  const decodes = (s: string) => {
    try {
      decodeURIComponent(s);
      return true;
    } catch {
      return false;
    }
  };
  /**
   * Our own reading of "this is a write route", independent of Express. A DELETE whose id is not
   * valid percent-encoding matches no route (Express answers 400 before any handler runs), so
   * it is not counted as a write; the store check below still covers it.
   */
  const isWrite = (method: string, path: string) => {
    const p = path.split('?')[0];
    return (
      (method === 'POST' && WRITE_PATH.some((re) => re.test(p))) ||
      (['DELETE', 'PUT', 'PATCH'].includes(method) && WRITE_DELETE.test(p) && decodes(p)) ||
      // Listing the whole store needs a write key too.
      (method === 'GET' && /^\/v1\/questions\/?$/i.test(p))
    );
  };
  const READ_POST = /^\/v1\/(duplicates|similarity)\/?$/i;
  const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

  return (): Sent => {
    // With the key, writes are the interesting part: favour them and mostly send JSON.
    const route = options.alwaysKey && chance(0.6) ? pick(routes.filter((r) => r.write)) : pick(routes);
    let method = route.method;
    let path: string;
    if (chance(0.12)) path = junkPath();
    else path = vary(route.path());
    if (route === suggestRoute || chance(0.05)) path += suggestQuery();
    if (chance(0.12)) method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'MKCOL', 'SEARCH', 'LOCK']);

    const headers: Record<string, string> = {};
    let body: Buffer | undefined;
    const bodyRoll = rng.next();
    if (route.json && method !== 'GET' && method !== 'HEAD') {
      let text: string;
      if (bodyRoll < 0.55) text = JSON.stringify(shapes[route.json]()) ?? '';
      else if (bodyRoll < 0.7) text = malformed();
      else if (bodyRoll < 0.8) text = nested();
      else if (bodyRoll < 0.88) text = JSON.stringify({ text: 'x'.repeat(70_000 + rng.int(100_000)) });
      else text = JSON.stringify(shapes[route.json]()) ?? '';
      body = Buffer.from(text, 'utf8');
      if (bodyRoll >= 0.95) body = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]); // invalid UTF-8
      headers['content-type'] = pick([
        'application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON',
        'application/json; charset=latin1', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x', 'application/vnd.api+json', 'application/json-seq', ';;;', 'application/',
        '',
      ]);
      if (options.alwaysKey && chance(0.6)) headers['content-type'] = 'application/json';
      if (headers['content-type'] === '') delete headers['content-type'];
      if (chance(0.04)) headers['content-encoding'] = pick(['gzip', 'deflate', 'br', 'identity', 'bogus']);
    } else if (chance(0.15)) {
      body = Buffer.from(pick(['{"text":"x"}', 'garbage', '\u0000\u0000']), 'utf8');
      if (chance(0.5)) headers['content-type'] = pick(['application/json', 'text/plain']);
    }

    const write = isWrite(method, path);
    const keyRoll = rng.next();
    // The right key only where the request cannot be a write whatever Express makes of the path.
    const mayUseKey = !write && (READ_METHODS.has(method) || (method === 'POST' && READ_POST.test(path.split('?')[0])));
    if (keyRoll < 0.3 && mayUseKey) headers.authorization = `Bearer ${KEY}`;
    else if (keyRoll < 0.7) {
      headers.authorization = pick([
        'Bearer wrong', `Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`, `Bearer ${KEY.toUpperCase()}`, KEY, `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}`,
        'Bearer', 'Bearer ', `Bearer  ${KEY.slice(1)}`, `Token ${KEY}`, `Bearer ${'A'.repeat(4000)}`, '', `Bearer ${KEY}\u00e9`.replace(/[^\x20-\x7e]/g, '?'),
      ]);
      if (headers.authorization === '') delete headers.authorization;
    }
    if (options.alwaysKey) headers.authorization = `Bearer ${KEY}`;
    if (body) headers['content-length'] = String(body.length);
    if (method === 'GET' || method === 'HEAD') {
      // a GET with a body is legal HTTP; keep it sometimes
      if (!chance(0.3)) {
        body = undefined;
        delete headers['content-length'];
        delete headers['content-type'];
      }
    }
    return { method, path, headers, body, mustBe401: write && !options.alwaysKey };
  };
}

/** Sends `n` generated requests to the server at `base`, CONCURRENCY at a time; returns what went wrong and the tallies. */
async function fuzzServer(base: URL, agent: Agent, seed: number, n: number, options: { alwaysKey?: boolean; forbidden?: string[] } = {}) {
  const generate = makeGenerator(new Random(seed), options);
  const requests = Array.from({ length: n }, generate);
  const statuses = new Map<number, number>();
  const fiveXX: string[] = [];
  const not401: string[] = [];
  /** Answers that name what only operators may read (a database's address). */
  const leaks: string[] = [];
  let writes = 0;
  /** Successful writes by kind (only possible with the key). */
  const done = { questions: 0, deleted: 0, feedback: 0 };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++];
      const describeIt = () => `${r.method} ${r.path.slice(0, 100)} ${JSON.stringify(r.headers).slice(0, 200)} ${r.body?.toString('utf8').slice(0, 100) ?? ''}`;
      let answer: Answer;
      try {
        answer = await send(base, agent, r);
      } catch (err) {
        // The server may close a connection it cannot parse (Node answers 400/431 and hangs
        // up); that is a client error, not a failure. Anything else is.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNRESET' || code === 'EPIPE') {
          statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
          continue;
        }
        throw new Error(`${describeIt()}: ${(err as Error).message}`);
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status >= 200 && answer.status < 300) {
        const p = r.path.split('?')[0];
        if (r.method === 'POST' && /^\/v1\/questions\/?$/i.test(p)) done.questions++;
        if (r.method === 'POST' && /^\/v1\/feedback\/?$/i.test(p)) done.feedback++;
        if (r.method === 'DELETE') done.deleted++;
        if (r.method === 'PUT' && answer.status === 201) done.questions++;
        if (r.method === 'POST' && /^\/v1\/questions\/bulk\/?$/i.test(p)) done.questions += answer.text.split('\n').filter((l) => l.includes('"result":"created"')).length;
      }
      if (options.forbidden?.some((f) => answer.text.includes(f))) leaks.push(`${answer.status} ${describeIt()} -> ${answer.text.slice(0, 200)}`);
      if (answer.status >= 500) fiveXX.push(`${answer.status} ${describeIt()} -> ${answer.text.slice(0, 200)}`);
      if (r.mustBe401) {
        writes++;
        // 431: the request line and headers were over Node's limit, refused before any route.
        if (answer.status !== 401 && answer.status !== 431) not401.push(`${answer.status} ${describeIt()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { fiveXX, not401, leaks, writes, done, statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])) };
}

/**
 * A server with the key over QUESTIONS in the store at `location()`, for a suite: started
 * before its tests, closed after them.
 */
function useFuzzTarget(location: () => Promise<string> | string) {
  const target = { agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) } as { agent: Agent; model: Model; index: DuplicateIndex; server: RunningServer; base: URL };
  after(async () => {
    target.agent.destroy();
    await target.server?.close();
    target.model?.dispose();
  });
  before(async () => {
    target.model = await loadModel(undefined, { backend: 'wasm' });
    target.index = await DuplicateIndex.open(await location(), { model: target.model });
    await target.index.add(QUESTIONS);
    target.server = await startServer(target.index, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), version: 'fuzz', apiKey: KEY });
    target.base = new URL(target.server.url);
  });
  return target;
}

describe('HTTP fuzzing', () => {
  const target = useFuzzTarget(() => store);
  // Registered after the close above, so it runs after it.
  const store = tempDir(after, 'doppel-fuzz-');

  // Read beside the server through its own SQLite connection, as any reader of the store may.
  const snapshot = async () => {
    const db = new Database(databasePath(store), { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM questions ORDER BY label').all();
      const feedback = (db.prepare('SELECT count(*) AS n FROM feedback').get() as { n: number }).n;
      const generation = (db.prepare("SELECT value FROM meta WHERE key = 'generation'").get() as { value: string }).value;
      return { generation, feedback, indexed: (await target.index.stats()).indexed, rows };
    } finally {
      db.close();
    }
  };
  const getMetrics = async () => (await send(target.base, target.agent, { method: 'GET', path: '/metrics', headers: {}, mustBe401: false })).text;
  const heapUsed = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed;
  };

  const fuzz = (seed: number, n: number, options: { alwaysKey?: boolean } = {}) => fuzzServer(target.base, target.agent, seed, n, options);

  test(`${REQUESTS} seeded requests: no 5xx, writes without the key are 401, the store is untouched, memory is bounded`, async () => {
    const before = await snapshot();
    // A first, smaller round (another seed) lets /metrics reach its series for every declared
    // route, method and status; the main round must then add next to nothing however many
    // distinct paths it makes up.
    const warm = await fuzz(SEED + 1, Math.ceil(REQUESTS / 3));
    const metricsBefore = await getMetrics();
    const heapBefore = heapUsed();
    const started = performance.now();
    const main = await fuzz(SEED, REQUESTS);
    const seconds = (performance.now() - started) / 1000;
    const after = await snapshot();
    const metricsAfter = await getMetrics();
    const heapAfter = heapUsed();

    const bytes = (s: string) => Buffer.byteLength(s);
    const figures = {
      seed: SEED,
      requests: REQUESTS + Math.ceil(REQUESTS / 3),
      mainRound: { requests: REQUESTS, seconds: Math.round(seconds * 10) / 10, writesWithoutKey: main.writes, fiveXX: main.fiveXX.length, statuses: main.statuses },
      warmRound: { requests: Math.ceil(REQUESTS / 3), writesWithoutKey: warm.writes, fiveXX: warm.fiveXX.length },
      metricsBytes: { before: bytes(metricsBefore), after: bytes(metricsAfter) },
      heapMB: { before: Math.round(heapBefore / 2 ** 20), after: Math.round(heapAfter / 2 ** 20), gc: typeof (globalThis as { gc?: unknown }).gc === 'function' },
    };
    console.log(`fuzz-http figures: ${JSON.stringify(figures)}`);
    if (process.env.DOPPEL_FUZZ_DEBUG) {
      const old = new Set(metricsBefore.split('\n').map((l) => l.replace(/ [^ ]+$/, '')));
      console.log(metricsAfter.split('\n').filter((l) => !old.has(l.replace(/ [^ ]+$/, ''))).join('\n'));
    }

    for (const round of [warm, main]) {
      assert.deepEqual(round.fiveXX, [], 'no request gets a 5xx');
      assert.deepEqual(round.not401, [], 'every write without the right key is refused with 401');
    }
    assert.ok(main.writes >= 200, `enough writes were tried (${main.writes})`);
    assert.deepEqual(after, before, 'the store is unchanged');
    const routes = new Set([...metricsAfter.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    const declared = ['/v1/duplicates', '/v1/questions', '/v1/questions/bulk', '/v1/questions/:id', '/v1/similarity', '/v1/suggest', '/v1/feedback', '/healthz', '/metrics', '/openapi.json', '/widget.js', '/client.js', '/', '/assets', 'unmatched'];
    assert.deepEqual([...routes].filter((r) => !declared.includes(r)), [], 'metric labels are declared routes only');
    // New series come only from declared routes x methods x statuses (about 1.5 KB of histogram
    // lines each): a handful appear after the warm round, never one per odd path.
    assert.ok(bytes(metricsAfter) - bytes(metricsBefore) < 32_000, `/metrics grew by ${bytes(metricsAfter) - bytes(metricsBefore)} bytes`);
    // Without --expose-gc the heap figure is noisy; the bound is generous either way.
    assert.ok(heapAfter - heapBefore < 96 * 2 ** 20, `heap grew by ${Math.round((heapAfter - heapBefore) / 2 ** 20)} MB`);
    // The server still works after all that.
    assert.equal((await send(target.base, target.agent, { method: 'GET', path: '/healthz', headers: {}, mustBe401: false })).status, 200);
  });

  test('with the key, odd writes never get a 5xx and only 2xx writes change the store', async () => {
    const before = (await target.index.stats());
    const keyed = await fuzz(SEED + 2, Math.ceil(REQUESTS / 4), { alwaysKey: true });
    const after = (await target.index.stats());
    console.log(`fuzz-http keyed round: ${JSON.stringify({ requests: Math.ceil(REQUESTS / 4), fiveXX: keyed.fiveXX.length, done: keyed.done, statuses: keyed.statuses })}`);
    assert.deepEqual(keyed.fiveXX, [], 'no request gets a 5xx');
    assert.ok(keyed.done.questions + keyed.done.feedback + keyed.done.deleted > 0, 'some writes went through');
    assert.deepEqual(
      { questions: after.questions, deleted: after.deleted, feedback: after.feedback },
      { questions: before.questions + keyed.done.questions - keyed.done.deleted, deleted: before.deleted + keyed.done.deleted, feedback: before.feedback + keyed.done.feedback },
    );
    assert.equal(after.indexed, after.questions);
  });
});

describe('HTTP fuzzing on a PostgreSQL store', () => {
  const pg = usePglite();
  let url = '';
  const target = useFuzzTarget(async () => (url = await pg.fresh()));

  test('seeded requests with and without the key: no 5xx, no answer names the database, unkeyed writes are 401', async () => {
    const where = new URL(url);
    const forbidden = [url, `${where.hostname}:${where.port}`, where.username ? `${where.username}@` : 'postgres://'];
    const n = Math.ceil(REQUESTS / 4);
    const unkeyed = await fuzzServer(target.base, target.agent, SEED + 3, n, { forbidden });
    const keyed = await fuzzServer(target.base, target.agent, SEED + 4, Math.ceil(n / 2), { alwaysKey: true, forbidden });
    console.log(
      `fuzz-http postgres round: ${JSON.stringify({ requests: n + Math.ceil(n / 2), fiveXX: unkeyed.fiveXX.length + keyed.fiveXX.length, leaks: unkeyed.leaks.length + keyed.leaks.length, writesWithoutKey: unkeyed.writes, statuses: unkeyed.statuses, keyedStatuses: keyed.statuses })}`,
    );
    for (const round of [unkeyed, keyed]) {
      assert.deepEqual(round.fiveXX, [], 'no request gets a 5xx');
      assert.deepEqual(round.leaks, [], 'no answer names the database');
    }
    assert.deepEqual(unkeyed.not401, [], 'every write without the right key is refused with 401');
    assert.ok(keyed.done.questions > 0, 'some keyed writes went through');
  });
});

