/**
 * Model upgrades without downtime (issue 25): `POST /v1/model/activate` on a running server
 * under steady load (no error, every answer from one whole model, named in its Doppel-Model
 * header), rollback, a kill -9 in the middle (the old model serves after restart, and the
 * activation resumes), an unfinished activation whose model is gone (discarded), the refusal to
 * re-encode a store silently, and activation and rollback on PostgreSQL (PGlite).
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadModel, type Model } from '../src/model/load.js';
import { importQuestions } from '../src/search/import-file.js';
import { DuplicateIndex } from '../src/search/stores.js';
import { startServer } from '../src/service/server.js';
import { doppel, doppelFails, ROOT, serveStore, tempDir, useBundledModel } from './helpers.js';
import { usePglite } from './pglite-server.js';
import { startServe } from './serve-process.js';

const { model, open } = useBundledModel();
const pg = usePglite();
const RETRIEVER = join(ROOT, 'data/models/default/retriever');
const SAMPLE = join(ROOT, 'data/sample/questions.tsv');
let other: Model;
before(async () => {
  other = await loadModel(RETRIEVER, { backend: 'wasm' });
});
after(() => other?.dispose());

interface ModelInfo {
  id: string;
  previous: { id: string; dir: string | null } | null;
  activation: { state: string; staged: number; total: number; to: string; error: string | null } | null;
  operatingPoints: { precise: { threshold: number } };
}

/** The first `n` sample questions as a file of their own. */
function sample(n: number, dir: string): string {
  const path = join(dir, `sample-${n}.tsv`);
  writeFileSync(path, readFileSync(SAMPLE, 'utf8').split('\n').slice(0, n + 1).join('\n') + '\n');
  return path;
}

const getModel = async (url: string): Promise<ModelInfo> => (await fetch(new URL('/v1/model', url))).json() as Promise<ModelInfo>;
const post = (url: string, path: string, body?: object) =>
  fetch(new URL(path, url), { method: 'POST', headers: body ? { 'content-type': 'application/json' } : {}, body: body && JSON.stringify(body) });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const finished = (url: string) => until('the activation to finish', async () => {
  const info = await getModel(url);
  return info.activation && ['done', 'failed'].includes(info.activation.state) ? info : undefined;
});

/** Sends /v1/duplicates on `connections` loops until stopped: each answer's status, model header and decision threshold. */
function steadyLoad(url: string, connections: number) {
  const answers: { status: number; model: string | null; threshold: number | undefined; ms: number }[] = [];
  let running = true;
  const texts = ['How do I learn Python quickly?', 'What is the best way to lose weight?', 'How can I improve my English?', 'Why is the sky blue?'];
  const loops = Array.from({ length: connections }, async (_, c) => {
    for (let i = c; running; i += connections) {
      const started = performance.now();
      const res = await post(url, '/v1/duplicates', { text: texts[i % texts.length], k: 5 });
      const body = (await res.json()) as { decision?: { threshold: number } };
      answers.push({ status: res.status, model: res.headers.get('doppel-model'), threshold: body.decision?.threshold, ms: performance.now() - started, ...(res.status === 200 ? {} : { body }) });
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

for (const backend of ['directory', 'postgres'] as const) {
  describe(`model activation on a ${backend} store`, () => {
    test('under steady load: no error, every answer from one whole model, then rollback; new questions follow both ways', async (t) => {
      const files = tempDir((fn) => t.after(fn));
      const store = backend === 'directory' ? join(files, 'store') : await pg.fresh();
      const index = await open(store);
      await importQuestions(index, sample(600, files));
      const server = await startServer(index, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), version: 'test' });
      try {
        const thresholds = new Map([
          [model().id, model().operatingPoints.precise.threshold],
          [other.id, other.operatingPoints.precise.threshold],
        ]);
        assert.notEqual(thresholds.get(model().id), thresholds.get(other.id));
        // PGlite (the test server) is one PostgreSQL session behind every connection: a large
        // statement (a batch of staged vectors) from one connection can interleave with another's
        // and bind the other's parameters. A real server gives each connection its own session, so
        // the activation under load runs on the directory store here, and on PGlite without it.
        const load = steadyLoad(server.url, backend === 'directory' ? 4 : 0);
        await new Promise((r) => setTimeout(r, 300));
        // One at a time, even while the first is still loading its model.
        const [started, second] = await Promise.all([post(server.url, '/v1/model/activate', { model: RETRIEVER }), post(server.url, '/v1/model/activate', { model: RETRIEVER })]);
        assert.deepEqual([started.status, second.status].sort(), [202, 409]);
        const first = started.status === 202 ? started : second;
        assert.equal(((await first.json()) as { to: string }).to, other.id);
        const done = await finished(server.url);
        await new Promise((r) => setTimeout(r, 300));
        const answers = await load.stop();
        assert.equal(done.activation!.state, 'done', done.activation!.error ?? '');
        assert.equal(done.id, other.id);
        assert.equal(done.previous?.id, model().id);
        if (backend === 'directory') assert.ok(answers.length > 20, `${answers.length} answers`);
        assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'no errors');
        // Each answer is one model's: its decision is that model's threshold, the model its header names.
        for (const a of answers) assert.equal(a.threshold, thresholds.get(a.model!), JSON.stringify(a));
        if (backend === 'directory') assert.ok(answers.some((a) => a.model === model().id) && answers.some((a) => a.model === other.id), 'answers from before and after the switch');
        const metrics = await (await fetch(new URL('/metrics', server.url))).text();
        assert.match(metrics, /^doppel_model_activation_progress 1$/m);
        assert.match(metrics, new RegExp(`^doppel_model_info\\{model="${other.id}"`, 'm'));
        // A question added under the new model is found after a rollback too (encoded with the old one on the way back).
        assert.equal((await post(server.url, '/v1/questions', { id: 'fresh', text: 'How do I repot an orchid without hurting its roots?' })).status, 201);
        assert.equal((await post(server.url, '/v1/model/rollback')).status, 202);
        const back = await finished(server.url);
        assert.equal(back.activation!.state, 'done', back.activation!.error ?? '');
        assert.equal(back.id, model().id);
        const found = (await (await post(server.url, '/v1/duplicates', { text: 'How can I repot an orchid without hurting the roots?', mode: 'dense', k: 1 })).json()) as { matches: { id: string }[] };
        assert.equal(found.matches[0].id, 'fresh');
      } finally {
        await server.close();
      }
      // The store records the model that serves: opening it with the other one is refused, not re-encoded.
      const reopened = await open(store);
      await reopened.close();
      await assert.rejects(DuplicateIndex.open(store, { model: other }), /encoded by model|holds embeddings of model/);
    });
  });
}

for (const backend of ['directory', 'postgres'] as const) {
  describe(`writes during an activation on a ${backend} store`, () => {
    test('a question replaced after it was staged is encoded anew; a write encoded before the switch is refused, not stored with the old vectors', async (t) => {
      const files = tempDir((fn) => t.after(fn));
      const store = backend === 'directory' ? join(files, 'store') : await pg.fresh();
      const index = await open(store);
      try {
        await importQuestions(index, sample(200, files));
        await index.upsert([{ id: 'bread', text: 'How do I bake sourdough bread at home?' }]);
        await index.stage(other);
        // Replaced after staging: its staged vector is of the old text.
        await index.upsert([{ id: 'bread', text: 'What is the best way to repair a flat bicycle tyre?' }]);
        // A write whose encoding (with the current model) outlasts the switch.
        const encoder = model().encoder;
        const encode = encoder.encode;
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        encoder.encode = async (texts: string[]) => {
          await held;
          return encode.call(encoder, texts);
        };
        const late = index.upsert([{ id: 'late', text: 'How long should I boil an egg?' }]);
        await new Promise((r) => setTimeout(r, 50));
        encoder.encode = encode;
        await index.switchModel(other);
        release();
        await assert.rejects(late, /switched models while this write was encoded/);
        assert.equal(await index.get('late'), undefined);
        const [hit] = await index.search('What is the best way to repair a flat bicycle tyre?', { mode: 'dense', k: 1 });
        assert.equal(hit.id, 'bread');
        assert.ok(hit.energy < 1e-4, `the new text's own vector (energy ${hit.energy})`);
      } finally {
        await index.close();
      }
    });
  });
}

describe('activation and crashes', () => {
  test('kill -9 in the middle: after restart the old model serves, and the activation resumes from what was staged', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const store = join(dir, 'store');
    const copy = join(dir, 'next-model');
    cpSync(RETRIEVER, copy, { recursive: true });
    await doppel(['index', 'build', '--store', store, '--questions', SAMPLE]);
    const first = await startServe(store);
    const started = await post(first.url, '/v1/model/activate', { model: copy });
    assert.equal(started.status, 202);
    const partial = await until('some questions staged', async () => {
      const a = (await getModel(first.url)).activation;
      return a && a.staged >= 512 && a.staged < a.total ? a : undefined;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startServe(store);
    try {
      // The old model serves at once; the activation goes on from what the first run staged.
      const info = await getModel(second.url);
      assert.equal(info.id, (await model()).id);
      const search = await post(second.url, '/v1/duplicates', { text: 'How do I learn Python?' });
      assert.equal(search.status, 200);
      assert.equal(search.headers.get('doppel-model'), model().id);
      const resumed = await until('the resumed activation', async () => (await getModel(second.url)).activation ?? undefined);
      assert.equal(resumed.to, other.id);
      const done = await finished(second.url);
      assert.equal(done.activation!.state, 'done', done.activation!.error ?? '');
      assert.equal(done.id, other.id);
      assert.ok(partial.staged > 0);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    // Restarted without --model, the server takes the store's model.
    const third = await startServe(store);
    try {
      assert.equal((await getModel(third.url)).id, other.id);
    } finally {
      third.child.kill('SIGTERM');
      await third.exited;
    }
  });

  test('an unfinished activation whose model is gone is discarded at start; the current model serves', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const store = join(dir, 'store');
    const copy = join(dir, 'gone-model');
    cpSync(RETRIEVER, copy, { recursive: true });
    const index = await open(store);
    await importQuestions(index, sample(300, dir));
    const gone = await loadModel(copy, { backend: 'wasm' });
    // Staged part of the way, as a server stopped midway would leave it.
    let calls = 0;
    await assert.rejects(
      index.stage(gone, {
        batch: 64,
        pace: async () => {
          if (++calls === 2) throw new Error('stopped');
        },
      }),
      /stopped/,
    );
    gone.dispose();
    assert.equal((await index.models()).activating?.id, gone.id);
    await index.close();
    rmSync(copy, { recursive: true });
    const server = await serveStore(model(), store);
    try {
      const info = await getModel(server.url);
      assert.equal(info.id, model().id);
      assert.equal(info.activation, null);
    } finally {
      await server.close();
    }
    const reopened = await open(store, true);
    try {
      assert.equal((await reopened.models()).activating, undefined);
    } finally {
      await reopened.close();
    }
  });

  test('the CLI refuses to re-encode a store another model encoded, unless told; it switches one offline and rolls it back', async (t) => {
    const store = join(tempDir((fn) => t.after(fn)), 'store');
    await doppel(['index', 'build', '--store', store, '--questions', join(ROOT, 'data/sample/questions.tsv'), '--model', join(ROOT, 'data/models/default')]);
    const refused = await doppelFails(['index', 'add', '--store', store, '--model', RETRIEVER, 'How do I bake sourdough bread?']);
    assert.match(refused.stderr, /encoded by model .*: serve it with that model .* doppel model activate .* --reencode/);
    await doppel(['model', 'activate', '--store', store, '--model', RETRIEVER]);
    const status = JSON.parse((await doppel(['model', 'status', '--store', store, '--json'])).stdout) as { current: { id: string }; previous: { id: string } };
    assert.deepEqual([status.current.id, status.previous.id], [other.id, model().id]);
    // Without --model, commands take the store's model.
    const found = JSON.parse((await doppel(['search', '--store', store, '--json', '--k', '1', 'What is the best way to learn Python programming?'])).stdout) as { hits: unknown[] };
    assert.equal(found.hits.length, 1);
    await doppel(['model', 'rollback', '--store', store]);
    assert.equal((JSON.parse((await doppel(['model', 'status', '--store', store, '--json'])).stdout) as { current: { id: string } }).current.id, model().id);
    // Told to, a store is re-encoded in place.
    await doppel(['index', 'add', '--store', store, '--model', RETRIEVER, '--reencode', 'How do I bake sourdough bread?']);
    assert.equal((JSON.parse((await doppel(['model', 'status', '--store', store, '--json'])).stdout) as { current: { id: string } }).current.id, other.id);
  });
});
