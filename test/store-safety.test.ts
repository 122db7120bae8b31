import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { DuplicateIndex } from '../src/search/stores.js';
import { databasePath, indexPath, manifestPath } from '../src/search/directory/paths.js';
import { QuestionStore } from '../src/search/directory/store.js';
import { STALE_AFTER_MS } from '../src/search/directory/writer-lease.js';
import { DEFAULT_HNSW } from '../src/search/backend.js';
import { VectorIndex } from '../src/search/directory/vector-index.js';
import { deadPid, dropLease, ROOT, simulateCrash, tempDir, TOPICS, useBundledModel } from './helpers.js';

const { model: bundled, open } = useBundledModel();
const Q = TOPICS;
const ids = (hits: { id: string }[]) => hits.map((h) => h.id);

describe('one writer per store', () => {
  test('a second writer is refused with a message naming the owner; readers are not', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const writer = await open(dir);
    try {
      await writer.add(Q.slice(0, 2));
      await assert.rejects(open(dir), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'STORE_LOCKED');
        assert.match(err.message, new RegExp(`open for writing by pid ${process.pid} on .*only one process may write`));
        return true;
      });
      assert.throws(() => new QuestionStore(dir), /only one process may write/);
      const reader = await open(dir, true);
      try {
        assert.equal((await reader.search(Q[0].text, { mode: 'dense', k: 1 }))[0].id, 'q1');
      } finally {
        reader.close();
      }
    } finally {
      await writer.close();
    }
    // Closing gives the lease up.
    (await open(dir)).close();
  });

  test('the lease of a process that died is taken over', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    (await open(dir)).close();
    const setOwner = (owner: object | string) => {
      const db = new Database(databasePath(dir));
      db.prepare("INSERT INTO meta (key, value) VALUES ('writer', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(typeof owner === 'string' ? owner : JSON.stringify(owner));
      db.close();
    };
    const now = new Date().toISOString();
    const base = { host: hostname(), startTime: null, since: now, heartbeat: now, command: 'doppel serve', token: 'x' };
    // On this host: the pid tells.
    setOwner({ ...base, pid: await deadPid() });
    (await open(dir)).close();
    // In another container or host the pid means nothing here: a fresh heartbeat keeps the lease...
    setOwner({ ...base, pid: process.pid, host: 'another-host' });
    await assert.rejects(open(dir), /open for writing by pid \d+ on another-host/);
    // ...and a silent one is taken over.
    const old = new Date(Date.now() - STALE_AFTER_MS - 1000).toISOString();
    setOwner({ ...base, pid: process.pid, host: 'another-host', since: old, heartbeat: old });
    (await open(dir)).close();
    // A row that does not parse is no lease.
    setOwner('{not json');
    (await open(dir)).close();
  });

  test('a write waits for another connection’s transaction instead of failing with SQLITE_BUSY', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await open(dir);
    try {
      // Another process holds the write lock for a while (a raw connection, as a migration tool would).
      const holder = spawn(process.execPath, [
        '-e',
        `const D = require(${JSON.stringify(join(ROOT, 'node_modules/better-sqlite3'))});
         const db = new D(${JSON.stringify(databasePath(dir))});
         db.exec("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('probe', '1')");
         process.stdout.write('locked\\n');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 400);`,
      ]);
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const [stored] = await index.add([Q[0]]);
      assert.equal(stored.id, 'q1');
      await new Promise((resolve) => holder.on('exit', resolve));
      const db = new Database(databasePath(dir), { readonly: true });
      assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'probe'").get() as { value: string }).value, '1');
      db.close();
    } finally {
      await index.close();
    }
  });
});

describe('the saved graph says exactly what it holds', () => {
  test('a graph that missed another writer’s changes is saved as behind and caught up', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const first = await open(dir);
    await first.add(Q.slice(0, 2));
    // Two writers on one store: what the lease prevents, e.g. when the owner cannot be checked
    // (another host). The graph must still never claim changes it does not hold.
    dropLease(first);
    const second = await open(dir);
    await second.add([Q[2]]);
    await second.remove('q1');
    await second.close();
    await first.save(); // before: stamped with the store's newer generation, hiding q3 and q1's removal forever
    assert.equal(JSON.parse(readFileSync(manifestPath(dir), 'utf8')).generation, 1);
    await first.add([Q[3]]); // a gap in generations: the graph replays what it missed
    assert.deepEqual(ids(await first.search(Q[2].text, { mode: 'dense', k: 1 })), ['q3']);
    assert.ok(!ids(await first.search(Q[0].text, { mode: 'dense', k: 5 })).includes('q1'));
    simulateCrash(first); // a crash: the last changes are in SQLite only
    const reopened = await open(dir);
    try {
      assert.equal((await reopened.stats()).indexed, 3);
      for (const q of [Q[1], Q[2], Q[3]]) assert.equal((await reopened.search(q.text, { mode: 'dense', k: 1 }))[0].id, q.id);
      assert.ok(!ids(await reopened.search(Q[0].text, { mode: 'dense', k: 5 })).includes('q1'));
    } finally {
      await reopened.close();
    }
  });

  test('a committed write whose graph update fails is kept, logged, and caught up by the next write', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const messages: string[] = [];
    const index = await DuplicateIndex.open(dir, { model: bundled(), log: (m) => messages.push(m) });
    try {
      await index.add([Q[0]]);
      const vectors = (index as unknown as { vectors: { add: (...args: unknown[]) => void } }).vectors;
      const add = vectors.add;
      vectors.add = () => {
        throw new Error('out of memory');
      };
      const [stored] = await index.add([Q[1]]); // acknowledged: it is in SQLite
      assert.equal(stored.id, 'q2');
      assert.match(messages.join('\n'), /is stored but not yet in the graph \(out of memory\)/);
      vectors.add = add;
      await index.add([Q[2]]);
      for (const q of Q.slice(0, 3)) assert.equal((await index.search(q.text, { mode: 'dense', k: 1 }))[0].id, q.id);
    } finally {
      await index.close();
    }
  });

  test('half-written graph files of a crashed save are removed on open', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await open(dir);
    await index.add(Q);
    await index.close();
    const leftovers = [`${indexPath(dir)}.tmp-4242`, `${manifestPath(dir)}.tmp-4242`];
    for (const f of leftovers) writeFileSync(f, 'partial');
    (await open(dir)).close();
    for (const f of leftovers) assert.ok(!existsSync(f), `${f} is removed`);
  });
});

describe('vectors', () => {
  test('replacing a vector updates it in place, so a reused slot never hides a live label', () => {
    const index = VectorIndex.create('l2', 2, { ...DEFAULT_HNSW }, 64);
    for (let i = 0; i < 40; i++) index.add(i, [i, 2 * i]);
    for (let i = 11; i <= 15; i++) index.remove(i);
    index.add(0, [0.5, 0.5], true); // before: moved label 0 into another vacant slot, its old one still naming it
    for (let i = 0; i < 6; i++) index.add(1000 + i, [100 + i, 0]); // fills the vacant slots
    assert.equal(index.size, 41);
    assert.deepEqual(index.search([0.5, 0.5], 1).map((r) => r.label), [0]);
    index.remove(0);
    assert.equal(index.size, 40);
    assert.ok(!index.search([0.5, 0.5], 5).some((r) => r.label === 0), 'a removed label is never returned');
  });
});

describe('category filters', () => {
  test('small and empty categories are searched exactly; many categories keep memory bounded', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await open(dir);
    try {
      await index.add(Q);
      assert.deepEqual(ids(await index.search(Q[0].text, { mode: 'dense', k: 5, category: 'food' })), ['q5']);
      assert.deepEqual(ids(await index.search(Q[0].text, { mode: 'dense', k: 5, category: 'money' })).sort(), ['q3', 'q4']);
      assert.deepEqual(await index.search(Q[0].text, { mode: 'hybrid', k: 5, category: 'nothing here' }), []);
      const excluded = await index.search(Q[0].text, { mode: 'dense', k: 5, category: 'music', exclude: ['q1'] });
      assert.deepEqual(ids(excluded), ['q2']);
      // A cached category follows writes without being rebuilt from the store.
      await index.add([{ id: 'q6', text: 'How long should I knead bread dough?', category: 'food' }]);
      await index.remove('q5');
      assert.deepEqual(ids(await index.search(Q[4].text, { mode: 'dense', k: 5, category: 'food' })), ['q6']);
      await index.feedback({ aId: 'q6', bId: 'q1', isDuplicate: false });
      const s = await index.stats();
      assert.deepEqual([s.questions, s.deleted, s.feedback, s.indexed], [5, 1, 1, 5], 'stats kept in step with writes');
      for (let i = 0; i < 500; i++) await index.search('guitar', { mode: 'dense', k: 1, category: `c${i}` });
      const cache = (index as unknown as { categoryCache: { map: Map<string, unknown> } }).categoryCache;
      assert.ok(cache.map.size <= 32, `category cache holds ${cache.map.size} entries`);
    } finally {
      await index.close();
    }
  });
});
