import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DoppelError } from '../src/errors.js';
import { Admission } from '../src/service/admission.js';
import { TOPICS, serveStore, tempDir, useBundledModel } from './helpers.js';
import { postJson, startServe } from './serve-process.js';

/** A piece of work that runs until `finish` is called. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => done, finish };
}

const isOverloaded = (err: unknown) => err instanceof DoppelError && err.code === 'OVERLOADED';

describe('serving under load, and over one store from several processes', () => {
  const { model, open } = useBundledModel();

  test('admission runs up to its concurrency, queues up to its bound and refuses the rest at once', async () => {
    const refusals: string[] = [];
    const admission = new Admission({ concurrency: 1, queue: 1, deadlineMs: 60_000 }, (r) => refusals.push(r));
    const a = held();
    const running = admission.run(a.work);
    let bRan = false;
    const queued = admission.run(async () => {
      bRan = true;
    });
    await assert.rejects(admission.run(async () => {}), isOverloaded);
    assert.deepEqual(refusals, ['queue_full']);
    assert.equal(admission.queued, 1);
    assert.equal(bRan, false);
    a.finish();
    await running;
    await queued;
    assert.equal(bRan, true);
    assert.equal(admission.queued, 0);
  });

  test('a request that waits past its deadline is refused, and never runs', async () => {
    const refusals: string[] = [];
    const admission = new Admission({ concurrency: 1, queue: 10, deadlineMs: 5 }, (r) => refusals.push(r));
    const a = held();
    const running = admission.run(a.work);
    let ran = false;
    await assert.rejects(
      admission.run(async () => {
        ran = true;
      }),
      isOverloaded,
    );
    assert.deepEqual(refusals, ['deadline']);
    a.finish();
    await running;
    assert.equal(ran, false);
    await admission.run(async () => {}); // the slot is free again
  });

  test('admission refuses at once only what its measured pace says would start past the deadline', async () => {
    let clock = 0;
    const refusals: string[] = [];
    const admission = new Admission({ concurrency: 1, queue: 100, deadlineMs: 100 }, (r) => refusals.push(r), () => clock);
    const jobs = Array.from({ length: 3 }, held);
    const done = [admission.run(jobs[0].work), admission.run(jobs[1].work), admission.run(jobs[2].work)];
    // Each request holds the one slot 20 ms: that is the pace it learns.
    for (const [i, job] of jobs.entries()) {
      clock += 20;
      job.finish();
      await done[i];
    }
    assert.equal(admission.expectedWaitMs, 0, 'a free slot: no wait');
    const a = held();
    const running = admission.run(a.work);
    assert.equal(admission.expectedWaitMs, 20);
    // Four more can start within 100 ms (at 20, 40, 60, 80 ms); the fifth would start at 100, the sixth at 120.
    const ran: number[] = [];
    const waiting = Array.from({ length: 5 }, (_, i) => admission.run(async () => void ran.push(i)));
    const started = performance.now();
    await assert.rejects(admission.run(async () => void ran.push(5)), isOverloaded);
    assert.ok(performance.now() - started < 50, 'refused at once');
    assert.deepEqual(refusals, ['late']);
    assert.equal(admission.queued, 5);
    a.finish();
    await running;
    await Promise.all(waiting);
    assert.deepEqual(ran, [0, 1, 2, 3, 4]);

    // Slow requests (each held past the deadline) raise the pace to the deadline: the first in
    // line still waits, the next is refused; quick ones bring the pace back.
    /** One request alone, holding its slot `ms` on the clock. */
    const alone = async (ms: number) => {
      const job = held();
      const done = admission.run(job.work);
      clock += ms;
      job.finish();
      await done;
    };
    for (let i = 0; i < 40; i++) await alone(200);
    const slow = held();
    const busy = admission.run(slow.work);
    const first = admission.run(async () => {});
    await assert.rejects(admission.run(async () => {}), isOverloaded, 'expected past the deadline');
    slow.finish();
    await busy;
    await first;
    for (let i = 0; i < 60; i++) await alone(20);
    const last = held();
    const holding = admission.run(last.work);
    assert.ok(admission.expectedWaitMs < 40, `the pace is back near 20 ms (${admission.expectedWaitMs})`);
    last.finish();
    await holding;
  });

  test('a read-only index follows the writer: additions and removals', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const writer = await open(dir);
    await writer.add(TOPICS);
    const reader = await open(dir, true);
    await writer.add([{ id: 'q6', text: 'How do I repot an orchid without killing it?' }]);
    for (const mode of ['lexical', 'dense'] as const) assert.equal((await reader.search('repot an orchid', { k: 1, mode }))[0]?.id, 'q6', mode);
    writer.remove('q6');
    assert.ok(!(await reader.search('repot an orchid', { k: 5, mode: 'hybrid' })).some((h) => h.id === 'q6'));
    reader.close();
    writer.close();
  });

  test('/metrics shows the suggestion cache hit rate', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await open(dir);
    await index.add(TOPICS);
    index.close();
    const server = await serveStore(model(), dir);
    t.after(() => server.close());
    for (let i = 0; i < 3; i++) assert.equal((await fetch(new URL('/v1/suggest?q=learn%20guit', server.url))).status, 200);
    const metrics = await (await fetch(new URL('/metrics', server.url))).text();
    assert.match(metrics, /doppel_suggest_cache_requests_total\{result="hit"\} 2/);
    assert.match(metrics, /doppel_suggest_cache_requests_total\{result="miss"\} 1/);
    assert.match(metrics, /doppel_suggest_cache_hit_ratio 0\.66/);
    assert.match(metrics, /doppel_requests_queued 0/);
  });

  test('serve --workers 2: writes reach the one writer, every worker reads them', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const index = await open(dir);
    await index.add(TOPICS);
    index.close();
    const serve = await startServe(dir, ['--workers', '2']);
    t.after(() => serve.child.kill('SIGKILL'));
    // Requests spread over both workers: each of several answers must see each write.
    for (let i = 0; i < 4; i++) {
      const r = await postJson(serve.url, '/v1/questions', { id: `w${i}`, text: `How do I repot orchid number ${i} without killing it?` });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    for (let i = 0; i < 6; i++) {
      assert.equal((await fetch(new URL(`/v1/questions/w${i % 4}`, serve.url))).status, 200);
      const hits = await postJson(serve.url, '/v1/duplicates', { text: 'repot orchid number 3', k: 10, mode: 'lexical' });
      assert.ok(hits.json.matches.some((m: { id: string }) => m.id === 'w3'));
    }
    assert.equal((await postJson(serve.url, '/v1/questions/w3', undefined, 'DELETE')).status, 200);
    for (let i = 0; i < 6; i++) {
      const suggestions = (await (await fetch(new URL('/v1/suggest?q=repot%20orchid%20number%203', serve.url))).json()) as { suggestions: { id: string }[] };
      assert.ok(!suggestions.suggestions.some((s) => s.id === 'w3'), 'a removed question is gone from every worker, cache included');
    }
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0);
  });

  test('serve --operating-point sets the decision of every answer that does not choose one', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const serve = await startServe(dir, ['--operating-point', 'recall']);
    t.after(() => serve.child.kill('SIGKILL'));
    const info = await (await fetch(new URL('/v1/model', serve.url))).json();
    assert.equal(info.defaultOperatingPoint, 'recall');
    const answer = await postJson(serve.url, '/v1/duplicates', { text: 'How do I repot an orchid?' });
    assert.deepEqual(answer.json.decision, { threshold: info.operatingPoints.recall.threshold, operatingPoint: 'recall', decidedBy: 'verdict' });
    const chosen = await postJson(serve.url, '/v1/duplicates', { text: 'How do I repot an orchid?', operatingPoint: 'precise' });
    assert.equal(chosen.json.decision.operatingPoint, 'precise');
    // An empty minProbability in a query string is no choice at all.
    const suggested = await (await fetch(new URL('/v1/suggest?q=repot%20orchid&minProbability=', serve.url))).json();
    assert.equal(suggested.decision.operatingPoint, 'recall');
  });
});
