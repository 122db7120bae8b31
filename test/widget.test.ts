import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { doppel, ROOT, SAMPLE_QUESTIONS, tempDir } from './helpers.js';
import { postJson, type ServeProcess, startServe } from './serve-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  process.stderr.write(`\n*** SKIPPING the widget browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n\n`);
}

const WIDGET = join(ROOT, 'src/service/web/widget.js');
/** The bound docs/integration.md promises for the widget, gzipped. */
const MAX_GZIPPED_BYTES = 6 * 1024;

test(`widget.js is under ${MAX_GZIPPED_BYTES} bytes gzipped`, () => {
  const size = gzipSync(readFileSync(WIDGET), { level: 9 }).length;
  assert.ok(size < MAX_GZIPPED_BYTES, `widget.js is ${size} bytes gzipped`);
});

/** The first questions of the bundled sample: a store small enough to build in seconds. */
const QUESTIONS = readFileSync(SAMPLE_QUESTIONS, 'utf8')
  .split('\n')
  .slice(1, 61)
  .map((line) => line.split('\t'))
  .map(([id, text]) => ({ id, text }));
const TARGET = QUESTIONS.find((q) => q.id === 'demo-3')!; // "What is the difference between rum and whisky?"
const OTHER = QUESTIONS.find((q) => q.id === 'demo-50')!; // "How can I increase my intelligence?"
/** The widget's default data-k: the example page sets none. */
const K = 5;

interface Shown {
  expanded: string | null;
  activeDescendant: string | null;
  listId: string | null;
  hidden: boolean;
  options: { id: string; text: string; href: string | null; badge: boolean; selected: string | null }[];
}

/** What the widget shows under #title, read through the combobox's own ARIA wiring. */
function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const input = document.querySelector('#title')!;
    const listId = input.getAttribute('aria-controls');
    const list = listId ? document.getElementById(listId) : null;
    return {
      expanded: input.getAttribute('aria-expanded'),
      activeDescendant: input.getAttribute('aria-activedescendant'),
      listId,
      hidden: list?.hidden ?? true,
      options: Array.from(list?.querySelectorAll('[role=option]') ?? [], (li) => ({
        id: li.id,
        text: li.querySelector('.doppel-text')?.textContent ?? '',
        href: li.querySelector('a')?.href ?? null,
        badge: li.querySelector('.doppel-badge') !== null,
        selected: li.getAttribute('aria-selected'),
      })),
    };
  });
}

/** Whether a request or response is the widget's GET /v1/suggest for `q`. */
const isSuggest = (q: string) => (r: { url(): string }) => {
  const url = new URL(r.url());
  return url.pathname === '/v1/suggest' && url.searchParams.get('q') === q;
};

/** Resolves when the list shows exactly these texts, in this order. */
async function showsExactly(page: Page, texts: string[]): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const input = document.querySelector('#title')!;
      const list = document.getElementById(input.getAttribute('aria-controls') ?? '');
      const got = Array.from(list?.querySelectorAll('[role=option] .doppel-text') ?? [], (e) => e.textContent);
      return list !== null && !list.hidden && JSON.stringify(got) === JSON.stringify(want);
    },
    texts,
    { timeout: 10_000 },
  );
}

/** Types `text` into the title and waits until the widget shows the server's answer for it. */
async function typeAndAwait(page: Page, text: string) {
  const answered = page.waitForResponse((r) => r.request().method() === 'GET' && isSuggest(text)(r), { timeout: 15_000 });
  await page.locator('#title').pressSequentially(text, { delay: 10 });
  const response = await answered;
  const body = (await response.json()) as { suggestions: { id: string; text: string }[] };
  await showsExactly(
    page,
    body.suggestions.map((s) => s.text),
  );
  return { suggestions: body.suggestions, headers: await response.request().allHeaders() };
}

/** A forum stand-in: the example page with its placeholders filled in, and /q/<id> pages. */
function forumServer(page: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page());
    }
    const question = /^\/q\/([\w-]+)$/.exec(path);
    res.writeHead(question ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(question ? `<!doctype html><title>${question[1]}</title><h1>question ${question[1]}</h1>` : 'not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const origin = (server: Server) => `http://127.0.0.1:${(server.address() as { port: number }).port}`;

describe('the widget on a forum page of another origin, in headless Chromium', { skip: available ? false : `no Chromium at ${CHROMIUM}` }, () => {
  const ADMIN = 'widget-test-admin-key';
  let doppelServe: ServeProcess;
  let forum: Server;
  let stranger: Server;
  let browser: Browser;
  let forumOrigin: string;
  let strangerOrigin: string;
  let searchKey: string;
  let forumHtml = '';

  after(async () => {
    await browser?.close();
    if (doppelServe) {
      doppelServe.child.kill('SIGTERM');
      await doppelServe.exited;
    }
    await Promise.all([forum, stranger].map((s) => s && new Promise((resolve) => s.close(resolve))));
  });
  // Registered after the hook above, so that the store goes only once the server has stopped.
  const dir = tempDir(after);
  const store = join(dir, 'store');

  before(async () => {
    // One page, served from two origins: the forum's (allowed) and a stranger's (not).
    const template = readFileSync(join(ROOT, 'docs/forum-example/index.html'), 'utf8');
    forum = await forumServer(() => forumHtml);
    stranger = await forumServer(() => forumHtml);
    forumOrigin = origin(forum);
    strangerOrigin = origin(stranger);

    const questions = join(dir, 'questions.tsv');
    writeFileSync(questions, ['id\ttext', ...QUESTIONS.map((q) => `${q.id}\t${q.text}`)].join('\n') + '\n');
    await doppel(['index', 'build', '--store', store, '--questions', questions]);
    const made = await doppel(['keys', 'create', '--store', store, '--scope', 'search', '--origin', forumOrigin, '--name', 'widget', '--json']);
    searchKey = (JSON.parse(made.stdout) as { key: string }).key;
    assert.ok(searchKey, `keys create printed ${made.stdout}`);

    doppelServe = await startServe(store, ['--cors-origin', forumOrigin], { DOPPEL_API_KEY: ADMIN });
    // Each question gets a url on the forum, so that choosing one can be seen to navigate.
    const res = await fetch(new URL('/v1/questions/bulk', doppelServe.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${ADMIN}` },
      body: QUESTIONS.map((q) => JSON.stringify({ ...q, url: `${forumOrigin}/q/${q.id}` }) + '\n').join(''),
    });
    const results = (await res.text()).trim().split('\n').map((line) => JSON.parse(line) as { result?: string });
    assert.deepEqual(results.map((r) => r.result), QUESTIONS.map(() => 'updated'), 'every question got its url');
    forumHtml = template.replaceAll('{{DOPPEL_URL}}', doppelServe.url.replace(/\/$/, '')).replaceAll('{{SEARCH_KEY}}', searchKey);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });

  /** A fresh browser context (its own preflight cache) on `url`, recording console messages and page errors. */
  async function openPage(url: string) {
    const p = await browser.newPage();
    const consoleMessages: ConsoleMessage[] = [];
    const pageErrors: Error[] = [];
    p.on('console', (m) => consoleMessages.push(m));
    p.on('pageerror', (e) => pageErrors.push(e));
    await p.goto(url);
    return { p, consoleMessages, pageErrors };
  }

  test('typing a stored question lists it; badges are exactly the server\'s duplicates; the keys work as a combobox', async () => {
    const { p, pageErrors } = await openPage(`${forumOrigin}/`);
    const before = await shown(p);
    assert.equal(before.expanded, 'false');
    assert.equal(await p.locator('#title').getAttribute('role'), 'combobox');
    assert.equal(await p.locator('#title').getAttribute('aria-autocomplete'), 'list');
    assert.equal(await p.locator(`#${before.listId}`).getAttribute('role'), 'listbox');

    const { suggestions, headers } = await typeAndAwait(p, TARGET.text);
    assert.equal(headers.authorization, `Bearer ${searchKey}`, 'the widget sends its search key');
    const list = await shown(p);
    assert.equal(list.expanded, 'true');
    assert.equal(list.options.length, suggestions.length);
    const target = list.options.find((o) => o.text === TARGET.text);
    assert.ok(target, `the list shows the stored question; it shows ${list.options.map((o) => o.text).join(' | ')}`);
    assert.equal(target.href, `${forumOrigin}/q/${TARGET.id}`);
    assert.ok(list.options.every((o) => o.id && o.selected === 'false'));
    assert.match(await p.locator('.doppel-sr[role=status]').textContent() ?? '', new RegExp(`^${list.options.length} similar questions`));

    // The badge is the server's decision: the same text and k through /v1/duplicates flag the same questions.
    const checked = await postJson(doppelServe.url, '/v1/duplicates', { text: TARGET.text, k: K });
    assert.equal(checked.status, 200);
    const flagged = (checked.json.matches as { text: string; isDuplicate: boolean }[]).filter((m) => m.isDuplicate).map((m) => m.text);
    const badged = list.options.filter((o) => o.badge).map((o) => o.text);
    assert.deepEqual(badged.sort(), flagged.sort(), 'badges against /v1/duplicates flags');
    assert.ok(badged.length > 0 && badged.length < list.options.length, `some badged, some not: ${JSON.stringify(list.options)}`);

    // ArrowDown walks to the stored question; aria-activedescendant follows.
    const position = list.options.indexOf(target);
    for (let i = 0; i <= position; i++) await p.keyboard.press('ArrowDown');
    let now = await shown(p);
    assert.equal(now.activeDescendant, target.id);
    assert.equal(now.options[position].selected, 'true');

    await p.keyboard.press('Escape');
    now = await shown(p);
    assert.equal(now.hidden, true);
    assert.equal(now.expanded, 'false');
    assert.equal(now.activeDescendant, null);

    // Enter fires a cancelable doppel:select first: cancelled, the page stays where it is.
    await p.evaluate(() => {
      document.querySelector('#title')!.addEventListener(
        'doppel:select',
        (e) => {
          (window as unknown as { selected: unknown }).selected = (e as CustomEvent).detail.match;
          e.preventDefault();
        },
        { once: true },
      );
    });
    for (let i = 0; i <= position; i++) await p.keyboard.press('ArrowDown');
    assert.equal((await shown(p)).activeDescendant, target.id, 'ArrowDown reopens the closed list');
    await p.keyboard.press('Enter');
    const selected = (await p.evaluate(() => (window as unknown as { selected: unknown }).selected)) as { id: string; url: string };
    assert.equal(selected.id, TARGET.id);
    assert.equal(selected.url, `${forumOrigin}/q/${TARGET.id}`);
    await delay(300);
    assert.equal(p.url(), `${forumOrigin}/`);
    assert.equal((await shown(p)).hidden, true, 'choosing closes the list');

    // Not cancelled, Enter follows the question's url.
    for (let i = 0; i <= position; i++) await p.keyboard.press('ArrowDown');
    await Promise.all([p.waitForURL(`${forumOrigin}/q/${TARGET.id}`, { timeout: 10_000 }), p.keyboard.press('Enter')]);
    assert.deepEqual(pageErrors, []);
    await p.close();
  });

  test('nothing is asked under min-chars; a click follows the link; an older answer never replaces a newer one', async () => {
    const { p, pageErrors } = await openPage(`${forumOrigin}/`);
    const asked: string[] = [];
    p.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/v1/suggest' && r.method() === 'GET') asked.push(url.searchParams.get('q') ?? '');
    });
    await p.locator('#title').pressSequentially('Wh', { delay: 10 });
    await delay(500);
    assert.deepEqual(asked, [], 'fewer than data-min-chars (3) characters ask nothing');
    await p.locator('#title').fill('');

    // The answer for OTHER is held back until long after the one for TARGET has been shown.
    const held = OTHER.text;
    const failed: string[] = [];
    p.on('requestfailed', (r) => {
      if (isSuggest(held)(r)) failed.push(r.failure()?.errorText ?? '');
    });
    await p.route(
      (url) => url.pathname === '/v1/suggest',
      async (route) => {
        const response = await route.fetch();
        if (isSuggest(held)(route.request())) await delay(1_500);
        // The widget has aborted the held request by now: fulfilling it fails, as it should.
        await route.fulfill({ response }).catch(() => {});
      },
    );
    const sent = p.waitForRequest(isSuggest(held));
    await p.locator('#title').pressSequentially(held, { delay: 10 });
    await sent;
    await p.locator('#title').fill('');
    const { suggestions } = await typeAndAwait(p, TARGET.text);
    await delay(2_000);
    const texts = (await shown(p)).options.map((o) => o.text);
    assert.deepEqual(texts, suggestions.map((s) => s.text), 'the list still shows the answer for the newer text');
    assert.deepEqual(failed, ['net::ERR_ABORTED'], 'the older request was aborted');

    const target = p.locator('[role=option]').filter({ has: p.locator('.doppel-text', { hasText: TARGET.text }) });
    await Promise.all([p.waitForURL(`${forumOrigin}/q/${TARGET.id}`, { timeout: 10_000 }), target.click()]);
    assert.deepEqual(pageErrors, []);
    await p.close();
  });

  test('the same page on an origin Doppel does not allow gets no suggestions: the browser refuses the answer', async () => {
    // The server answers that origin without CORS headers (and refuses its preflight), so the browser keeps the answer from the page.
    const plain = await fetch(new URL(`/v1/suggest?q=${encodeURIComponent(TARGET.text)}`, doppelServe.url), { headers: { origin: strangerOrigin } });
    assert.equal(plain.headers.get('access-control-allow-origin'), null);
    const allowed = await fetch(new URL(`/v1/suggest?q=${encodeURIComponent(TARGET.text)}`, doppelServe.url), { headers: { origin: forumOrigin } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), forumOrigin);
    const preflight = await fetch(new URL('/v1/suggest', doppelServe.url), {
      method: 'OPTIONS',
      headers: { origin: strangerOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);

    const { p, consoleMessages, pageErrors } = await openPage(`${strangerOrigin}/`);
    const warned = p.waitForEvent('console', { predicate: (m) => m.type() === 'warning' && m.text().startsWith('Doppel widget:'), timeout: 15_000 });
    await p.locator('#title').pressSequentially(TARGET.text, { delay: 10 });
    const warning = await warned;
    assert.match(warning.text(), /cannot reach/);
    // A second failure for the same reason stays quiet.
    await p.locator('#title').pressSequentially(' now', { delay: 10 });
    await delay(1_000);
    const now = await shown(p);
    assert.deepEqual(now.options, []);
    assert.equal(now.hidden, true);
    const errors = consoleMessages.filter((m) => m.type() === 'error').map((m) => m.text());
    assert.ok(errors.some((m) => /CORS policy/.test(m)), `a CORS refusal in the console: ${errors.join(' | ')}`);
    assert.equal(consoleMessages.filter((m) => m.text().startsWith('Doppel widget:')).length, 1, 'the widget warns once');
    assert.deepEqual(pageErrors, [], 'nothing is thrown into the page');
    await p.close();
  });
});
