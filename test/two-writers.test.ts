import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { DuplicateIndex } from '../src/search/stores.js';
import { loadModel } from '../src/model/load.js';
import { CLI, tempDir } from './helpers.js';
import { denseIds, postJson, startServe } from './serve-process.js';

const run = promisify(execFile);
async function doppel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const FIRST = [
  { id: 'a', text: 'How do I learn to play the guitar?' },
  { id: 'b', text: 'How can I improve my credit score?' },
  { id: 'c', text: 'How do I bake sourdough bread at home?' },
];
const LATER = [
  { id: 'd', text: 'What is the best way to learn Python?' },
  { id: 'e', text: 'Which stocks should a beginner buy?' },
];

describe('two writers: doppel serve and the CLI on one store', () => {
  test('CLI writes are refused while serve runs, reads work, and the store matches a one-process build', async () => {
    const dir = tempDir(after);
    const store = join(dir, 'store');
    const file = join(dir, 'more.tsv');
    writeFileSync(file, 'id\ttext\nx\tHow do I stop procrastinating?\n');

    const server = await startServe(store);
    try {
      for (const q of FIRST) assert.equal((await postJson(server.url, '/v1/questions', q)).status, 201);
      const owner = new RegExp(`open for writing by pid ${server.child.pid} .*doppel serve`);
      for (const args of [
        ['index', 'add', '--store', store, '--id', 'cli', 'A question from the CLI?'],
        ['index', 'remove', '--store', store, 'a'],
        ['index', 'build', '--store', store, '--questions', file],
      ]) {
        const r = await doppel(args);
        assert.equal(r.code, 2, `${args[1]} exits non-zero`);
        assert.match(r.stderr, owner, `${args[1]} names the writing process`);
      }
      const search = await doppel(['search', '--store', store, '--mode', 'dense', '--json', FIRST[0].text]);
      assert.equal(search.code, 0, search.stderr);
      assert.equal(JSON.parse(search.stdout).hits[0].id, 'a');
      const stats = await doppel(['index', 'stats', '--store', store]);
      assert.equal(JSON.parse(stats.stdout).questions, 3);

      // The server goes on writing after the refused attempts.
      for (const q of LATER) assert.equal((await postJson(server.url, '/v1/questions', q)).status, 201);
      assert.equal((await postJson(server.url, '/v1/questions/b', undefined, 'DELETE')).status, 200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }

    // Once the server is gone, the CLI may write.
    assert.equal((await doppel(['index', 'remove', '--store', store, 'c'])).code, 0);

    // The same history in one process.
    const model = await loadModel();
    const referenceDir = join(dir, 'reference');
    const reference = await DuplicateIndex.open(referenceDir, { model });
    await reference.add([...FIRST, ...LATER]);
    reference.remove('b');
    reference.remove('c');
    const restarted = await startServe(store);
    try {
      for (const q of [...FIRST, ...LATER]) {
        const expected = (await reference.search(q.text, { mode: 'dense', k: 5 })).map((h) => h.id);
        assert.deepEqual(await denseIds(restarted.url, q.text, 5), expected, q.id);
      }
      assert.equal((await postJson(restarted.url, '/v1/questions/b', undefined, 'GET')).status, 404);
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
      reference.close();
      model.dispose();
    }
  });
});
