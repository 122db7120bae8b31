/**
 * What only the PostgreSQL store does: many `doppel serve` processes on one database, moving
 * stores between backends, the same energies as the directory store, and clear errors for a
 * store of another model, a newer schema, an unreachable server, and a server without pgvector
 * (a Debian PostgreSQL, when installed).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Hit } from '../src/search/backend.js';
import { migrateStore } from '../src/search/migrate.js';
import { DuplicateIndex, resolveStore } from '../src/search/stores.js';
import { SCHEMA_VERSION } from '../src/search/postgres/schema.js';
import { keyHash } from '../src/service/auth.js';
import { CLI, createKey, tempDir, TOPICS, useBundledModel } from './helpers.js';
import { usePglite } from './pglite-server.js';
import { postJson, startServe } from './serve-process.js';

const { model, open } = useBundledModel();
const pg = usePglite();

/**
 * The same hits up to float rounding: hnswlib computes a distance in float32, the database store
 * the model's energy in float64 from the same vectors.
 */
function assertSameHits(actual: Hit[], expected: Hit[], what: string): void {
  assert.deepEqual(actual.map((h) => h.id), expected.map((h) => h.id), what);
  actual.forEach((h, i) => {
    assert.ok(Math.abs(h.energy - expected[i].energy) < 1e-6, `${what}: energy ${h.energy} vs ${expected[i].energy}`);
    assert.ok(Math.abs(h.probability - expected[i].probability) < 1e-6, `${what}: probability`);
    assert.equal(h.isDuplicate, expected[i].isDuplicate);
  });
}

describe('PostgreSQL store', () => {
  test('two doppel serve processes on one database: writes through one are read through the other at once', async (t) => {
    const url = await pg.fresh();
    // A burst of writes is what this test sends: admission must queue it, not shed it (that is tested in serving.test.ts).
    const patient = ['--deadline', '30000', '--max-queue', '64'];
    const a = await startServe(url, patient);
    t.after(() => a.child.kill());
    const b = await startServe(url, ['--pool-size', '3', ...patient]);
    t.after(() => b.child.kill());
    assert.equal((await postJson(a.url, '/v1/questions', { id: 'g1', text: TOPICS[0].text, category: 'music' })).status, 201);
    const seen = await postJson(b.url, '/v1/duplicates', { text: TOPICS[0].text, mode: 'dense', k: 1 });
    assert.equal(seen.json.matches[0].id, 'g1', 'a write through A is found through B');
    // Concurrent inserts of one id through both: exactly one is stored, the others are told 409.
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) => postJson(i % 2 ? a.url : b.url, '/v1/questions', { id: 'same', text: `racing insert number ${i}` })),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
    // Many distinct inserts through both at once: none lost, none doubled.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => postJson(i % 2 ? a.url : b.url, '/v1/questions', { id: `m${i}`, text: `question number ${i} about topic ${i * 7}` })));
    assert.ok(many.every((r) => r.status === 201), JSON.stringify(many.filter((r) => r.status !== 201).map((r) => [r.status, r.json])));
    assert.equal((await postJson(b.url, '/v1/questions/g1', undefined, 'DELETE')).status, 200);
    assert.equal((await postJson(a.url, '/v1/questions/g1', undefined, 'GET')).status, 404, 'a delete through B is seen by A');
    const health = await (await fetch(new URL('healthz', a.url))).json();
    assert.equal(health.questions, 21, '20 + the race winner, the deleted one gone');
    const index = await open(url, true);
    try {
      const s = await index.stats();
      assert.deepEqual([s.questions, s.deleted], [21, 1]);
      assert.ok(await index.get('same'));
    } finally {
      await index.close();
    }
  });

  test('the same question gets the same neighbours, energies and probabilities on both stores', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const url = await pg.fresh();
    const stores = [await open(dir), await open(url)];
    try {
      for (const s of stores) await s.add(TOPICS);
      for (const text of ['learn the guitar', 'credit score', 'bread at home']) {
        const [d, p] = await Promise.all(stores.map((s) => s.search(text, { mode: 'dense', k: 5 })));
        assertSameHits(p, d, text);
      }
    } finally {
      for (const s of stores) await s.close();
    }
  });

  test('migrate copies a directory into PostgreSQL and back, without re-encoding, and resumes', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const url = await pg.fresh();
    const source = await open(join(dir, 'a'));
    await source.add(TOPICS);
    await source.remove('q2');
    await source.feedback({ aId: 'q1', bId: 'q3', isDuplicate: false });
    await source.upsert([{ id: 'q1', text: TOPICS[0].text, url: 'https://forum.example/q1', metadata: { z: 1, a: [2] } }]);
    const before = await source.search('learn guitar', { mode: 'dense', k: 3 });
    await source.close();
    const key = await createKey(join(dir, 'a'), 'write', { name: 'backend' });
    const first = await migrateStore(join(dir, 'a'), url, model());
    assert.deepEqual([first.copied, first.feedback, first.keys], [5, 1, 1]);
    const again = await migrateStore(join(dir, 'a'), url, model());
    assert.deepEqual([again.copied, again.present, again.feedback, again.keys], [0, 5, 0, 0], 'a second run copies nothing twice');
    const back = await migrateStore(url, join(dir, 'b'), model());
    assert.deepEqual([back.copied, back.keys], [5, 1]);
    // The keys went along (hashes only): the copy still needs one for writes, and takes the same.
    for (const location of [url, join(dir, 'b')]) {
      const keys = await resolveStore(location).openKeys(location, { readonly: true });
      assert.equal((await keys.find(keyHash(key)))?.name, 'backend', location);
      assert.ok(await keys.any());
      await keys.close();
    }
    for (const location of [url, join(dir, 'b')]) {
      const index = await open(location);
      try {
        assertSameHits(await index.search('learn guitar', { mode: 'dense', k: 3 }), before, location);
        assert.equal(await index.get('q2'), undefined, 'a removed question stays removed');
        assert.ok(await index.has('q2'), 'and its id stays taken');
        assert.deepEqual(await index.feedbackPairs(), [{ q1: TOPICS[0].text, q2: TOPICS[2].text, label: 0 }]);
        const q1 = (await index.get('q1'))!;
        assert.deepEqual([q1.url, JSON.stringify(q1.metadata)], ['https://forum.example/q1', '{"z":1,"a":[2]}'], 'url and metadata copied, keys in their order');
      } finally {
        await index.close();
      }
    }
  });

  test('a store of another model, a newer schema and an unreachable server are refused with clear messages', async () => {
    const url = await pg.fresh();
    await (await open(url)).close();
    await pg.server().db.exec("UPDATE doppel_meta SET value = 'another-model' WHERE key = 'model_id'");
    await assert.rejects(open(url), /holds embeddings of model another-model .*doppel model activate/);
    await pg.server().db.exec("UPDATE doppel_meta SET value = '99' WHERE key = 'schema_version'");
    await assert.rejects(open(url), new RegExp(`schema version 99, newer than this Doppel knows \\(${SCHEMA_VERSION}\\): upgrade Doppel`));
    await assert.rejects(open('postgres://u:secret@127.0.0.1:1/none'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'STORE_UNAVAILABLE');
      assert.equal(err.message, 'cannot reach the database');
      assert.match(String((err as { detail?: string }).detail), /^PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none: /);
      return true;
    });
    await assert.rejects(open(await pg.fresh(), true), /no Doppel store at/);
  });

  test('the CLI works on a postgres:// store: build, search, stats, remove', async (t) => {
    const url = await pg.fresh();
    const dir = tempDir((fn) => t.after(fn));
    const file = join(dir, 'q.tsv');
    writeFileSync(file, 'id\ttext\tcategory\n' + TOPICS.map((q) => `${q.id}\t${q.text}\t${q.category}`).join('\n') + '\n');
    // Asynchronously: the PGlite server answers from this process's event loop.
    const doppel = async (...args: string[]) => (await promisify(execFile)(process.execPath, [CLI, ...args], { encoding: 'utf8' })).stdout;
    await doppel('index', 'build', '--store', url, '--questions', file);
    assert.equal(JSON.parse(await doppel('search', '--store', url, 'bake sourdough bread', '--json', '--k', '1')).hits[0].id, 'q5');
    await doppel('index', 'remove', '--store', url, 'q5');
    const stats = JSON.parse(await doppel('index', 'stats', '--store', url));
    assert.deepEqual([stats.backend, stats.questions, stats.deleted, stats.lexical], ['postgres', 4, 1, 'pg_textsearch']);
  });
});

/** A Debian PostgreSQL server (no pgvector): started in a temporary cluster when installed. */
function debianPostgres(): string | undefined {
  for (const v of ['17', '16', '15']) {
    const bin = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

describe('a real PostgreSQL server without pgvector', () => {
  const bin = debianPostgres();
  test('opening a store says to install pgvector', { skip: bin ? false : 'SKIPPED LOUDLY: no Debian PostgreSQL installed (apt-get install postgresql-15); the extension-missing path is untested here' }, async (t) => {
    const dir = tempDir((fn) => t.after(fn), 'doppel-pg-');
    const data = join(dir, 'data');
    // initdb and postgres refuse to run as root: a root test runs them as the postgres user.
    const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    if (asUser.length) execFileSync('chown', ['postgres', dir]);
    const run = (cmd: string, args: string[]) => spawnSync(asUser[0] ?? cmd, asUser.length ? [...asUser.slice(1), cmd, ...args] : args, { encoding: 'utf8' });
    mkdirSync(join(dir, 'sock'));
    if (asUser.length) execFileSync('chown', ['postgres', join(dir, 'sock')]);
    const init = run(join(bin!, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust']);
    assert.equal(init.status, 0, init.stderr);
    const port = 20000 + (process.pid % 20000);
    const server = spawn(asUser[0] ?? join(bin!, 'postgres'), [...(asUser.length ? [...asUser.slice(1), join(bin!, 'postgres')] : []), '-D', data, '-p', String(port), '-k', join(dir, 'sock'), '-h', '127.0.0.1'], { stdio: 'ignore' });
    t.after(() => server.kill());
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    for (let i = 0; i < 100; i++) {
      try {
        await (await DuplicateIndex.open(url, { model: model() })).close();
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'STORE_UNAVAILABLE') {
          assert.match((err as Error).message, /install pgvector >= 0\.8 on the server: CREATE EXTENSION vector failed/);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    assert.fail('the server never answered, or accepted a store without pgvector');
  });
});
