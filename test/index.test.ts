import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import Database from 'better-sqlite3';
import { DuplicateIndex } from '../src/search/stores.js';
import { importQuestions } from '../src/search/import-file.js';
import { databasePath, indexPath, manifestPath } from '../src/search/directory/paths.js';
import { simulateCrash, TOPICS, tempDir, useBundledModel } from './helpers.js';
import { usePglite } from './pglite-server.js';

const { model: bundled, open } = useBundledModel();
const Q = TOPICS;
const ids = (hits: { id: string }[]) => hits.map((h) => h.id);
const pg = usePglite();

/** The two stores behind one DuplicateIndex interface: every test in the shared suite runs on both. */
const BACKENDS = [
  { name: 'directory (SQLite + hnswlib)', graph: true, location: async (t: TestContext) => tempDir((fn) => t.after(fn)) },
  { name: 'PostgreSQL (pgvector + pg_textsearch, PGlite over the wire)', graph: false, location: async () => pg.fresh() },
];

for (const backend of BACKENDS) {
  describe(`duplicate index: ${backend.name}`, () => {
    test('add, search (dense, lexical, hybrid), category filter, remove', async (t) => {
      const index = await open(await backend.location(t));
      try {
        await index.add(Q);
        for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
          const hits = await index.search('How do I learn to play the guitar?', { mode, k: 3 });
          assert.equal(hits[0].id, 'q1', `${mode} finds the identical question first`);
          assert.ok(hits[0].energy < 1e-3 && hits[0].isDuplicate, `${mode} reports the energy of each hit`);
          assert.ok(hits[0].probability > 0 && hits[0].probability <= 1);
        }
        const money = await index.search('How do I learn to play the guitar?', { mode: 'hybrid', k: 5, category: 'money' });
        assert.deepEqual(new Set(ids(money)), new Set(['q3', 'q4']));
        const excluded = await index.search('How do I learn to play the guitar?', { mode: 'dense', k: 5, exclude: ['q1'] });
        assert.ok(!ids(excluded).includes('q1'));
        await index.remove('q1');
        assert.ok(!ids(await index.search('How do I learn to play the guitar?', { mode: 'hybrid', k: 5 })).includes('q1'));
        assert.equal(await index.get('q1'), undefined);
        assert.equal((await index.stats()).questions, 4);
        const capacity = (await index.stats()).capacity;
        await index.add([{ id: 'q6', text: 'Where can I learn guitar chords online?' }]);
        // The graph in memory reuses the freed slot for the next question.
        if (backend.graph) assert.equal((await index.stats()).capacity, capacity);
        assert.equal((await index.search('learn guitar chords online', { mode: 'dense', k: 1 }))[0].id, 'q6');
      } finally {
        await index.close();
      }
    });

    test('reopening after close gives the same results', async (t) => {
      const store = await backend.location(t);
      let index = await open(store);
      await index.add(Q);
      const before = await index.search('improve credit score', { mode: 'hybrid', k: 5 });
      await index.close();
      index = await open(store);
      try {
        assert.deepEqual(await index.search('improve credit score', { mode: 'hybrid', k: 5 }), before);
      } finally {
        await index.close();
      }
    });

    test('invalid input is refused and changes nothing', async (t) => {
      const index = await open(await backend.location(t));
      try {
        await index.add(Q.slice(0, 2));
        const before = await index.stats();
        await assert.rejects(index.add([{ text: '   ' }]), /must not be empty/);
        await assert.rejects(index.add([{ id: 'new', text: 'fine' }, { id: 'q1', text: 'taken id' }]), /already exists/);
        await assert.rejects(index.add([{ id: 'x', text: 'a' }, { id: 'x', text: 'b' }]), /appears twice/);
        await assert.rejects(index.remove('unknown'), /no question with id 'unknown'/);
        await assert.rejects(index.search(''), /must not be empty/);
        await assert.rejects(index.search('ok', { k: 0 }), /k must be/);
        const afterStats = await index.stats();
        assert.equal(afterStats.questions, before.questions);
        assert.equal(afterStats.generation, before.generation);
        assert.equal(await index.get('new'), undefined);
      } finally {
        await index.close();
      }
    });

    test('importing a file streams it, adds only what is new, and reports bad rows', async (t) => {
      const dir = tempDir((fn) => t.after(fn));
      const file = join(dir, 'questions.tsv');
      writeFileSync(file, 'id\ttext\tcategory\n1\tHow do I learn guitar?\tmusic\n2\t"A ""quoted"" question?"\t\n3\t\t\n');
      const index = await open(await backend.location(t));
      try {
        await assert.rejects(importQuestions(index, file), /questions.tsv:4: text must not be empty/);
        assert.equal((await index.stats()).questions, 0, 'a failed import adds nothing from the failing batch');
        const bad: number[] = [];
        const r = await importQuestions(index, file, { onInvalid: (line) => bad.push(line) });
        assert.deepEqual([r.added, r.invalid, bad], [2, 1, [4]]);
        assert.equal((await index.get('2'))?.text, 'A "quoted" question?');
        const again = await importQuestions(index, file, { onInvalid: () => {} });
        assert.deepEqual([again.added, again.present], [0, 2]);
        const wrong = join(dir, 'wrong.csv');
        writeFileSync(wrong, 'name,body\na,b\n');
        await assert.rejects(importQuestions(index, wrong), /missing column\(s\) id, text/);
      } finally {
        await index.close();
      }
    });
  });
}

describe('directory store: SQLite file and HNSW graph', () => {
  test('a truncated, deleted, or foreign index file is detected and rebuilt', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    let index = await open(dir);
    await index.add(Q);
    const expected = ids(await index.search('bake bread', { mode: 'dense', k: 5 }));
    await index.close();
    const damage: [string, () => void][] = [
      ['truncated', () => truncateSync(indexPath(dir), 100)],
      ['deleted', () => rmSync(indexPath(dir))],
      ['from another model', () => {
        const m = JSON.parse(readFileSync(manifestPath(dir), 'utf8'));
        writeFileSync(manifestPath(dir), JSON.stringify({ ...m, modelId: 'another' }));
      }],
      ['garbage', () => writeFileSync(indexPath(dir), 'not an index')],
    ];
    for (const [what, harm] of damage) {
      harm();
      const messages: string[] = [];
      index = await DuplicateIndex.open(dir, { model: bundled(), log: (m) => messages.push(m) });
      try {
        assert.ok(messages.some((m) => /rebuilding/.test(m)), `${what}: rebuild is announced (${messages.join('; ')})`);
        assert.deepEqual(ids(await index.search('bake bread', { mode: 'dense', k: 5 })), expected, `${what}: same results after rebuild`);
      } finally {
        await index.close();
      }
      assert.ok(existsSync(manifestPath(dir)));
    }
  });

  test('a crash between the SQLite commit and the index save loses nothing', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    let index = await open(dir);
    await index.add(Q.slice(0, 3));
    await index.save();
    // Written and committed, but the process "dies" before the graph is saved again.
    await index.add(Q.slice(3));
    await index.remove('q2');
    simulateCrash(index);
    index = await open(dir);
    try {
      assert.equal((await index.stats()).questions, 4);
      assert.equal((await index.stats()).indexed, 4);
      assert.equal((await index.search(Q[4].text, { mode: 'dense', k: 1 }))[0].id, 'q5');
      assert.ok(!ids(await index.search(Q[1].text, { mode: 'dense', k: 5 })).includes('q2'));
    } finally {
      await index.close();
    }
  });

  test('a reader sees a consistent view while a write is in flight', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await open(dir);
    try {
      await index.add(Q.slice(0, 2));
      const reader = new Database(databasePath(dir), { readonly: true });
      const count = reader.prepare('SELECT count(*) AS n FROM questions');
      const embeddings = reader.prepare('SELECT count(*) AS n FROM embeddings');
      reader.exec('BEGIN');
      const seen = (count.get() as { n: number }).n;
      await index.add(Q.slice(2));
      // Inside its snapshot the reader still sees the old state, questions and embeddings alike.
      assert.equal((count.get() as { n: number }).n, seen);
      assert.equal((embeddings.get() as { n: number }).n, seen);
      reader.exec('COMMIT');
      assert.equal((count.get() as { n: number }).n, 5);
      reader.close();
    } finally {
      await index.close();
    }
  });
});
