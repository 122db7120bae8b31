import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { readQuestions } from '../src/data/questions.js';
import { DuplicateIndex } from '../src/search/stores.js';
import { manifestPath } from '../src/search/directory/paths.js';
import { loadModel } from '../src/model/load.js';
import { Random } from '../src/util/random.js';
import { CLI, SAMPLE_QUESTIONS, tempDir } from './helpers.js';
import { denseIds, postJson, type ServeProcess, startServe } from './serve-process.js';

const KILLS = 24;
const SEED_QUESTIONS = 1500;
const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

/**
 * Acknowledged writes survive SIGKILL: a server taking a stream of inserts and deletes is killed
 * at random points (every third time just as it starts saving the graph) and restarted; each
 * restart must serve every acknowledged question and none of the deleted ones.
 */
describe('crash suite: SIGKILL during writes and saves', () => {
  const dir = tempDir(after);
  const store = join(dir, 'store');
  const pool: { id: string; text: string }[] = [];
  const stats = { kills: 0, killsDuringSave: 0, acknowledgedInserts: 0, acknowledgedDeletes: 0, lost: 0, resurrected: 0, temporariesLeft: 0 };

  before(async () => {
    const seen = new Set<string>();
    for await (const q of readQuestions(SAMPLE_QUESTIONS)) {
      const key = q.text.toLowerCase();
      if (!seen.has(key)) pool.push({ id: q.id, text: q.text });
      seen.add(key);
    }
    const model = await loadModel();
    const index = await DuplicateIndex.open(store, { model });
    await index.add(pool.splice(0, SEED_QUESTIONS));
    await index.close();
    model.dispose();
  });

  after(() => console.log(`crash suite: ${JSON.stringify(stats)}`));

  test(`${KILLS} kills, every acknowledged write kept`, async () => {
    const rng = new Random(7);
    const random = () => rng.next();
    const live = new Set<string>();
    const deleted = new Set<string>();
    const text = new Map(pool.map((q) => [q.id, q.text]));
    let next = 0;
    for (let round = 0; round < KILLS; round++) {
      const server: ServeProcess = await startServe(store, ['--save-interval', '0.05']);
      assert.deepEqual(temporaries(store), [], 'a restart removes half-written files');
      // Every acknowledged question is found by dense search; no deleted one is returned.
      for (const id of live) if (!(await denseIds(server.url, text.get(id)!, 3)).includes(id)) stats.lost++;
      for (const id of deleted) if ((await denseIds(server.url, text.get(id)!, 10)).includes(id)) stats.resurrected++;
      assert.equal(stats.lost, 0, `round ${round}: acknowledged questions missing`);
      assert.equal(stats.resurrected, 0, `round ${round}: deleted questions returned`);

      const duringSave = round % 3 === 2;
      let killed = false;
      const kill = () => {
        if (!killed) server.child.kill('SIGKILL');
        killed = true;
      };
      const watcher = duringSave ? watch(store, (_event, name) => name?.includes('.tmp-') && kill()) : undefined;
      const timer = duringSave ? undefined : setTimeout(kill, 50 + random() * 250);
      // Writers send until the process dies; only answered requests count as acknowledged.
      const writer = async () => {
        while (!killed && next < pool.length) {
          const removing = live.size > 0 && random() < 0.25;
          try {
            if (removing) {
              const id = [...live][Math.floor(random() * live.size)];
              live.delete(id); // unknown until answered
              const r = await postJson(server.url, `/v1/questions/${encodeURIComponent(id)}`, undefined, 'DELETE');
              if (r.status === 200) {
                deleted.add(id);
                stats.acknowledgedDeletes++;
              }
            } else {
              const q = pool[next++];
              const r = await postJson(server.url, '/v1/questions', q);
              if (r.status === 201) {
                live.add(q.id);
                stats.acknowledgedInserts++;
              }
            }
          } catch {
            // the connection died with the process: the outcome is unknown, so it is not counted
          }
        }
      };
      await Promise.all([writer(), writer(), server.exited]);
      watcher?.close();
      clearTimeout(timer);
      stats.kills++;
      if (temporaries(store).length > 0 || !existsSync(manifestPath(store))) stats.killsDuringSave++;
    }
    // The dead server's lease does not block the next writer.
    const { stderr } = await promisify(execFile)(process.execPath, [CLI, 'index', 'add', '--store', store, '--id', 'after-crash', 'A question added after the last crash?']);
    assert.doesNotMatch(stderr, /only one process/);
    const last = await startServe(store);
    try {
      for (const id of live) assert.ok((await denseIds(last.url, text.get(id)!, 3)).includes(id), `${id} is found`);
      assert.deepEqual(await denseIds(last.url, 'A question added after the last crash?', 1), ['after-crash']);
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
    stats.temporariesLeft = temporaries(store).length;
    assert.equal(stats.temporariesLeft, 0);
    // A third of the rounds aim at a save; the kill can land just after the rename, so ask for half of them.
    assert.ok(stats.killsDuringSave >= KILLS / 6, `kills during a save: ${stats.killsDuringSave}`);
    assert.ok(stats.acknowledgedInserts > 50 && stats.acknowledgedDeletes > 10, JSON.stringify(stats));
  });
});
