/**
 * The moderation loop (issue 25): the review queue on a directory store and on PostgreSQL
 * (PGlite), what the server queues, decisions kept as feedback under the key's name, the
 * moderator page driven by the keyboard alone in Chromium, and `doppel fit-verdict --feedback`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { reviewFoldKey, reviewPriority, type ReviewCandidate } from '../src/search/review.js';
import { resolveStore } from '../src/search/stores.js';
import { DoppelError } from '../src/errors.js';
import { createKey, doppel, doppelFails, ROOT, serveStore, tempDir, useBundledModel } from './helpers.js';
import { usePglite } from './pglite-server.js';

const { model, open } = useBundledModel();
const pg = usePglite();
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const side = (text: string, id: string | null = null) => ({ id, text });
const candidate = (a: string, b: string, probability: number, threshold = 0.8, bId: string | null = null): ReviewCandidate => ({ a: side(a), b: side(b, bId), probability, threshold });

/** A store's feedback pairs, read through a read-only index. */
async function feedbackOf(store: string) {
  const index = await open(store, true);
  try {
    return await index.feedbackPairs();
  } finally {
    await index.close();
  }
}

/** Rejects with a DoppelError of this code. */
async function failsWith(work: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(work, (err: unknown) => err instanceof DoppelError && err.code === code);
}

test('priority is the distance from the threshold in log-odds; near-copies share a fold key', () => {
  assert.equal(reviewPriority(0.8, 0.8), 0);
  assert.ok(reviewPriority(0.75, 0.8) < reviewPriority(0.5, 0.8));
  // 0.99 and 0.999 are told apart, as 0.5 and 0.6 are.
  assert.ok(reviewPriority(0.999, 0.8) > reviewPriority(0.99, 0.8) + 1);
  assert.equal(reviewFoldKey('How do I cook rice?', 'Best rice cooker?'), reviewFoldKey('best rice cooker', 'how do I cook RICE'));
  assert.notEqual(reviewFoldKey('How do I cook rice?', 'Best rice cooker?'), reviewFoldKey('How do I cook pasta?', 'Best rice cooker?'));
});

for (const backend of ['directory', 'postgres'] as const) {
  describe(`review queue on a ${backend} store`, () => {
    const location = async (t: { after: (fn: () => void) => void }) => (backend === 'directory' ? tempDir((fn) => t.after(fn)) : await pg.fresh());

    test('serves the most informative first, folds near-copies, stays within its bound, and never asks a decided pair again', async (t) => {
      const store = await location(t);
      await (await open(store)).close();
      const queue = await resolveStore(store).openReview(store, { limit: 3 });
      try {
        assert.equal(await queue.enqueue([candidate('How do I cook rice?', 'What is the best rice cooker?', 0.5), candidate('Is coffee bad for you?', 'Is coffee good for your brain?', 0.79), candidate('How can I gain weight?', 'How can I lose weight?', 0.95)]), 3);
        // Full: a less informative pair is dropped, a more informative one takes the place of the least (the weight pair, p 0.95).
        assert.equal(await queue.enqueue([candidate('What is love?', 'What is life?', 0.999)]), 0);
        assert.equal(await queue.enqueue([candidate('How do I learn Java?', 'How do I learn Python?', 0.81)]), 1);
        // A near-copy (case and punctuation) of a pending pair is folded into it.
        assert.equal(await queue.enqueue([candidate('how do i learn java', 'How do I learn Python', 0.82)]), 0);
        const page = await queue.page(10);
        assert.deepEqual(
          page.items.map((i) => [i.a.text, i.copies]),
          [
            ['Is coffee bad for you?', 1],
            ['How do I learn Java?', 2],
            ['How do I cook rice?', 1],
          ],
        );
        assert.equal(page.pending, 3);
        const [first, second, third] = page.items;
        const decided = await queue.decide(first.id, 'different', 'mod-alice');
        assert.equal(first.a.text, 'Is coffee bad for you?');
        assert.equal(decided.status, 'different');
        assert.equal(decided.reviewer, 'mod-alice');
        assert.ok(decided.feedbackId !== null && decided.decidedAt !== null);
        await failsWith(queue.decide(first.id, 'duplicate', 'mod-bob'), 'CONFLICT');
        await failsWith(queue.decide(999_999, 'skip', 'mod-bob'), 'NOT_FOUND');
        assert.equal((await queue.decide(second.id, 'skip', 'mod-bob')).feedbackId, null);
        await queue.decide(third.id, 'duplicate', 'mod-bob');
        // Decided (even skipped) pairs are not asked again.
        assert.equal(await queue.enqueue([candidate('How do I learn Java?', 'How do I learn Python?', 0.8)]), 0);
        const after = await queue.page(10);
        assert.equal(after.pending, 0);
        assert.deepEqual(after.decided, { duplicate: 1, different: 1, skip: 1 });
        // The model said different (p 0.79 < 0.8) to the coffee pair, as the moderator did, and different (p 0.5) to the rice pair a moderator called duplicate.
        assert.equal(after.agreed, 1);
      } finally {
        await queue.close();
      }
      // The decisions are feedback: training pairs of the store, in the order decided.
      assert.deepEqual(await feedbackOf(store), [
        { q1: 'Is coffee bad for you?', q2: 'Is coffee good for your brain?', label: 0 },
        { q1: 'How do I cook rice?', q2: 'What is the best rice cooker?', label: 1 },
      ]);
    });

    test('the server queues checks and additions it is unsure of; an admin key decides, under its name', async (t) => {
      const store = await location(t);
      const index = await open(store);
      await index.add([
        { id: 'weight', text: 'How can I lose weight quickly?' },
        { id: 'rice', text: 'How do I cook rice without a rice cooker?' },
      ]);
      await index.close();
      const admin = await createKey(store, 'admin', { name: 'mod-carol' });
      const search = await createKey(store, 'search');
      const server = await serveStore(model(), store);
      try {
        const call = (path: string, key: string, body?: object) =>
          fetch(new URL(path, server.url), { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body) });
        const pending = async (n: number) => {
          // Queueing never delays an answer: it lands just after.
          for (let i = 0; i < 100; i++) {
            const page = (await (await call('/v1/review', admin)).json()) as { items: { id: number; a: { id: string | null; text: string }; b: { id: string }; probability: number }[]; pending: number };
            if (page.pending >= n) return page;
            await new Promise((r) => setTimeout(r, 20));
          }
          assert.fail(`the queue never held ${n} pairs`);
        };
        // A paraphrase: flagged, so queued for a moderator to confirm.
        const checked = (await (await call('/v1/duplicates', search, { text: 'How do I lose weight fast?' })).json()) as { matches: { id: string; probability: number }[] };
        assert.equal(checked.matches[0].id, 'weight');
        const first = await pending(1);
        assert.deepEqual([first.items[0].a, first.items[0].b.id], [{ id: null, text: 'How do I lose weight fast?' }, 'weight']);
        assert.equal(first.items[0].probability, checked.matches[0].probability);
        // A new question near a stored one is queued with its own id.
        assert.equal((await call('/v1/questions', admin, { id: 'rice2', text: 'How can I cook rice without a rice cooker?' })).status, 201);
        const second = await pending(2);
        assert.ok(second.items.some((i) => i.a.id === 'rice2' && i.b.id === 'rice'));
        // A clearly different check is not queued.
        await call('/v1/duplicates', search, { text: 'What is the capital of Mongolia?' });
        assert.equal((await pending(2)).pending, 2);
        // Only an admin key reads or decides.
        assert.equal((await call('/v1/review', search)).status, 403);
        assert.equal((await call(`/v1/review/${first.items[0].id}`, search, { decision: 'duplicate' })).status, 403);
        const decided = (await (await call(`/v1/review/${first.items[0].id}`, admin, { decision: 'duplicate' })).json()) as { reviewer: string; status: string };
        assert.deepEqual([decided.status, decided.reviewer], ['duplicate', 'mod-carol']);
        assert.equal((await call(`/v1/review/${first.items[0].id}`, admin, { decision: 'different' })).status, 409);
      } finally {
        await server.close();
      }
    });
  });
}

describe('the moderator page in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  after(() => browser?.close());

  test('keyboard alone: the key, then d / n / s decide the pairs in order, with the count left and what the decisions did', async (t) => {
    const store = tempDir((fn) => t.after(fn));
    await (await open(store)).close();
    const queue = await resolveStore(store).openReview(store);
    await queue.enqueue([
      candidate('How can I gain weight quickly?', 'How can I lose weight quickly?', 0.81, 0.8, 'w'),
      candidate('How do I convert a PDF to Word?', 'How do I convert Word to PDF?', 0.7, 0.8, 'p'),
      candidate('What should I do if my dog eats chocolate?', 'What should I do if my cat eats chocolate?', 0.6, 0.8, 'c'),
    ]);
    await queue.close();
    const admin = await createKey(store, 'admin', { name: 'mod-dana' });
    const server = await serveStore(model(), store);
    const page = await browser.newPage();
    try {
      await page.goto(new URL('/review', server.url).href);
      // The server has keys: the page asks for one, focused, and Enter submits it.
      await page.locator('#key').waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'key');
      await page.keyboard.type(admin);
      await page.keyboard.press('Enter');
      await page.locator('#pair-view').waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await page.locator('#side-a').textContent(), 'How can I gain weight quickly?');
      assert.match(await page.locator('#side-b').textContent() ?? '', /^How can I lose weight quickly\?stored as w$/);
      assert.equal(await page.locator('#left').textContent(), '3 left to review.');
      // The explanation of the pair arrives beside it.
      await page.locator('#why .explain .summary').waitFor({ timeout: 10_000 });
      await page.keyboard.press('n');
      await page.waitForFunction(() => document.getElementById('left')?.textContent === '2 left to review.');
      assert.equal(await page.locator('#side-a').textContent(), 'How do I convert a PDF to Word?');
      await page.keyboard.press('s');
      await page.waitForFunction(() => document.getElementById('left')?.textContent === '1 left to review.');
      await page.keyboard.press('d');
      await page.locator('#empty').waitFor({ state: 'visible', timeout: 10_000 });
      const effect = await page.locator('#effect li').allTextContents();
      assert.equal(effect[0], '3 decided: 1 duplicate, 1 different, 1 skipped.');
      // The model said duplicate (0.81 >= 0.8) to the weight pair a moderator called different, and different (0.6) to the dog and cat it called duplicate.
      assert.equal(effect[1], 'The model had sided with you on 0 of 2 (0.0 %).');
      assert.match(effect[2], /has not been refit on reviews yet/);
    } finally {
      await page.close();
      await server.close();
    }
    assert.deepEqual(await feedbackOf(store), [
      { q1: 'How can I gain weight quickly?', q2: 'How can I lose weight quickly?', label: 0 },
      { q1: 'What should I do if my dog eats chocolate?', q2: 'What should I do if my cat eats chocolate?', label: 1 },
    ]);
  });
});

describe('doppel fit-verdict --feedback', () => {
  test('refits the stack on a store\'s reviewed pairs, reports both models on them, and writes a copy only when it is not worse (or --force)', async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const store = join(dir, 'store');
    // Too few reviewed pairs: refused with what is needed.
    const index = await open(store);
    await index.feedback({ a: 'How do I cook rice?', b: 'How can I cook rice?', isDuplicate: true });
    const few = await doppelFails(['fit-verdict', '--train', join(ROOT, 'data/sample/pairs.tsv'), '--feedback', store, '--out', join(dir, 'never')]);
    assert.match(few.stderr, /holds 1 reviewed pairs \(1 duplicates\): a refit needs at least 20, with 5 of each kind/);
    assert.ok(!existsSync(join(dir, 'never')));
    // Reviewed pairs from the sample's Quora pairs (labelled by people, as a moderator would).
    const sample = readFileSync(join(ROOT, 'data/sample/pairs.tsv'), 'utf8').trim().split('\n').slice(1, 121).map((l) => l.split('\t'));
    const header = readFileSync(join(ROOT, 'data/sample/pairs.tsv'), 'utf8').split('\n')[0].split('\t');
    const [c1, c2, cl] = ['question1', 'question2', 'is_duplicate'].map((c) => header.indexOf(c));
    for (const row of sample) await index.feedback({ a: row[c1], b: row[c2], isDuplicate: row[cl] === '1' });
    await index.close();
    const out = join(dir, 'refit');
    const run = await doppel(['fit-verdict', '--train', join(ROOT, 'data/sample/pairs.tsv'), '--feedback', store, '--out', out, '--force']).catch((err: { stderr?: string }) => assert.fail(err.stderr));
    const figures = (label: string) => {
      const line = run.stderr.split('\n').find((l) => l.includes(label));
      assert.ok(line, `${label} in ${run.stderr}`);
      return Number(/accuracy (\d\.\d+)/.exec(line)![1]);
    };
    const [current, refit] = [figures('current model on the reviewed pairs'), figures('refit, cross-validated')];
    const training = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8')) as { feedbackRefit: { pairs: number; current: { accuracy: number }; refit: { accuracy: number } } };
    assert.equal(training.feedbackRefit.pairs, 121);
    assert.equal(Number(training.feedbackRefit.current.accuracy.toFixed(3)), current);
    assert.equal(Number(training.feedbackRefit.refit.accuracy.toFixed(3)), refit);
    // The refit is a model: it loads, and its stack differs from the bundled one.
    const bundled = readFileSync(join(ROOT, 'data/models/default/verdict.json'), 'utf8');
    assert.notEqual(readFileSync(join(out, 'verdict.json'), 'utf8'), bundled);
    await doppel(['score', 'How do I cook rice?', 'How can I cook rice?', '--model', out]);
    // Without --force the same refit is written only if it is not worse on the reviewed pairs.
    const again = join(dir, 'again');
    const unforced = await doppel(['fit-verdict', '--train', join(ROOT, 'data/sample/pairs.tsv'), '--feedback', store, '--out', again]).then(
      () => 0,
      (err: { code?: number; stderr: string }) => {
        assert.match(err.stderr, /the refit does worse on the reviewed pairs/);
        return 1;
      },
    );
    assert.equal(unforced, refit < current ? 1 : 0);
    assert.equal(existsSync(join(again, 'verdict.json')), refit >= current);
  });
});
