import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { DuplicateIndex } from '../src/search/stores.js';
import { loadModel, type Model } from '../src/model/load.js';
import { type RunningServer, startServer } from '../src/service/server.js';
import { tempDir } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  process.stderr.write(`\n*** SKIPPING the web page test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n\n`);
}

describe('web page in headless Chromium', { skip: available ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let model: Model;
  let server: RunningServer;
  let browser: Browser;
  after(async () => {
    await browser?.close();
    await server?.close();
    model?.dispose();
  });
  const store = tempDir(after);

  before(async () => {
    model = await loadModel(undefined, { backend: 'wasm' });
    const index = await DuplicateIndex.open(store, { model });
    await index.add([
      { id: 'py', text: 'What is the best way to learn Python programming?' },
      { id: 'cook', text: 'How do I cook rice without a rice cooker?' },
      { id: 'sleep', text: 'How can I fall asleep faster at night?' },
    ]);
    server = await startServer(index, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), version: 'test' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });

  test('typing a title shows live suggestions with energies', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.locator('#title').pressSequentially('how to learn pyth', { delay: 20 });
    // The list is the embedded widget's (/widget.js), with its scores shown.
    const first = page.locator('[role=listbox] [role=option]').first();
    await first.waitFor({ timeout: 10_000 });
    const texts = await page.locator('[role=listbox] [role=option] .doppel-text').allTextContents();
    assert.ok(texts.includes('What is the best way to learn Python programming?'), `suggestions: ${texts.join(' | ')}`);
    assert.match(await first.locator('.doppel-score').textContent() ?? '', /energy \d\.\d{3}/);
    await page.close();
  });

  test('the check form shows a verdict and a duplicate badge', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.fill('#question', 'How do I cook rice without a rice cooker?');
    await page.click('#check button');
    await page.locator('#verdict.dup').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#verdict').textContent() ?? '', /Likely a duplicate/);
    assert.equal(await page.locator('#matches li').first().locator('.badge').textContent(), 'likely duplicate');
    await page.close();
  });

  test('"Why?" highlights the aligned words and lists the reasons of the verdict', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.fill('#question', 'How do I cook rice without a rice cooker?');
    await page.click('#check button');
    const first = page.locator('#matches > li').first();
    await first.waitFor({ timeout: 10_000 });
    await first.locator('.why summary').click();
    await first.locator('.explain mark').first().waitFor({ timeout: 10_000 });
    const marked = await first.locator('.explain .aligned').first().locator('mark').allTextContents();
    assert.ok(marked.includes('rice'), `aligned words of the query: ${marked.join(', ')}`);
    const reasons = await first.locator('.reasons li').allTextContents();
    assert.ok(reasons.length > 0 && reasons.every((r) => /^[▲▼] /.test(r)), `reasons: ${reasons.join(' | ')}`);
    assert.ok(reasons.every((r) => !/_/.test(r)), `reasons are named for people, not by feature: ${reasons.join(' | ')}`);
    // The panel leads with one plain sentence.
    const sentence = await first.locator('.explain > p.summary').textContent();
    assert.match(sentence ?? '', /^(Both ask|Differs|The same)/);
    assert.match(await page.locator('#verdict').textContent() ?? '', /p ≥ 0\.\d\d \((precise|balanced|recall)\)/);
    await page.close();
  });
});
