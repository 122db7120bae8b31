/**
 * One answer everywhere: real questions (the bundled sample), clean and with a slip in every
 * word, judged against one store by every surface that judges a text: the library, POST
 * /v1/duplicates (which the page's check form sends), POST /v1/questions, GET /v1/suggest for
 * the finished text, POST /v1/similarity on the top match, `doppel dedup --against`, and, for a
 * few of them, `doppel search` and `doppel score --store`. Each must give the same flag and the same
 * top duplicate, and state the probability threshold it applied.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withTypos } from '../scripts/bench/slips.js';
import { formatRow } from '../src/data/delimited.js';
import type { Hit } from '../src/search/backend.js';
import { DuplicateIndex } from '../src/search/stores.js';
import type { RunningServer } from '../src/service/server.js';
import { Random } from '../src/util/random.js';
import { doppel, SAMPLE_QUESTIONS, serveStore, tempDir, useBundledModel } from './helpers.js';
import { postJson } from './serve-process.js';

const STORED = 1500;
const QUERIES = 120;
const CLI_QUERIES = 6;

const { model } = useBundledModel();

/** What a surface said of a text: whether it flagged it, and the duplicate it put first. */
interface Answer {
  flag: boolean;
  top?: string;
}

const answerOf = (matches: { id: string; isDuplicate: boolean }[]): Answer => ({ flag: matches.some((m) => m.isDuplicate), top: matches.find((m) => m.isDuplicate)?.id });

describe('the same text gets the same verdict from every surface', () => {
  const rows = readFileSync(SAMPLE_QUESTIONS, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string]);
  const stored = rows.slice(0, STORED);
  const rng = new Random(7);
  // Held-out questions (never stored), each clean and with one slip in every word; a finished
  // text ends in '?', so suggest reads no prefix in it.
  const clean = rows.slice(STORED).filter((_, i) => i % 9 === 0).slice(0, QUERIES).map(([, text]) => (/[\p{L}\p{N}]$/u.test(text) ? `${text}?` : text));
  const texts = [...clean, ...clean.map((t) => withTypos(t, rng))];
  let server: RunningServer;
  let index: DuplicateIndex;
  // Closed before the directory goes: registered first, they run first.
  after(async () => server?.close());
  after(async () => index?.close());
  const dir = tempDir(after);
  const store = join(dir, 'store');

  before(async () => {
    const building = await DuplicateIndex.open(store, { model: model() });
    await building.add(stored.map(([id, text]) => ({ id, text })));
    await building.close();
    server = await serveStore(model(), store);
    index = await DuplicateIndex.open(store, { model: model(), readonly: true });
  });
  test(`${texts.length} texts: library, /v1/duplicates, /v1/suggest, /v1/similarity, /v1/questions and dedup --against agree`, async () => {
    const library: Answer[] = [];
    const disagreements: string[] = [];
    let flagged = 0;
    for (const text of texts) {
      const hits: Hit[] = await index.search(text, { k: 5 });
      const expected = answerOf(hits);
      library.push(expected);
      if (expected.flag) flagged++;
      const dup = await postJson(server.url, '/v1/duplicates', { text });
      assert.equal(dup.status, 200);
      const probabilities = dup.json.matches.map((m: { probability: number }) => m.probability);
      assert.deepEqual(probabilities, [...probabilities].sort((a, b) => b - a), 'matches in probability order');
      assert.equal(dup.json.decision.operatingPoint, 'precise');
      for (const m of dup.json.matches) assert.equal(m.isDuplicate, m.probability >= dup.json.decision.threshold, 'a match is a duplicate exactly at the stated threshold');
      const suggest = await (await fetch(new URL(`/v1/suggest?q=${encodeURIComponent(text)}`, server.url))).json();
      const answers: [string, Answer][] = [
        ['/v1/duplicates', answerOf(dup.json.matches)],
        ['/v1/suggest', answerOf(suggest.suggestions)],
      ];
      if (dup.json.matches.length > 0) {
        const top = dup.json.matches[0];
        const sim = await postJson(server.url, '/v1/similarity', { a: text, b: top.text });
        answers.push(['/v1/similarity', sim.json.isDuplicate ? { flag: true, top: top.id } : { flag: false }]);
        if (top.isDuplicate !== sim.json.isDuplicate) answers.push(['/v1/similarity (top match)', { flag: sim.json.isDuplicate, top: top.id }]);
      }
      for (const [surface, answer] of answers) {
        if (answer.flag !== expected.flag || answer.top !== expected.top) disagreements.push(`${surface} on ${JSON.stringify(text)}: ${JSON.stringify(answer)} vs ${JSON.stringify(expected)}`);
      }
    }
    // Stored then removed, after every other surface: each insert changes the store.
    for (const [i, text] of texts.entries()) {
      const added = await postJson(server.url, '/v1/questions', { id: `probe-${i}`, text });
      assert.equal(added.status, 201);
      const answer: Answer = { flag: added.json.duplicates.length > 0, top: added.json.duplicates[0]?.id };
      if (answer.flag !== library[i].flag || answer.top !== library[i].top) disagreements.push(`/v1/questions on ${JSON.stringify(text)}: ${JSON.stringify(answer)} vs ${JSON.stringify(library[i])}`);
      assert.equal((await postJson(server.url, `/v1/questions/probe-${i}`, undefined, 'DELETE')).status, 200);
    }
    const file = join(dir, 'texts.tsv');
    writeFileSync(file, ['id\ttext', ...texts.map((t, i) => formatRow([`t${i}`, t], '\t'))].join('\n') + '\n');
    const out = join(dir, 'against.tsv');
    await doppel(['dedup', file, '--against', store, '--out', out]);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const header = lines[0].split('\t');
    for (const line of lines.slice(1)) {
      const row = Object.fromEntries(line.split('\t').map((v, i) => [header[i], v]));
      const i = Number(row.id.slice(1));
      const answer: Answer = row.is_duplicate === 'true' ? { flag: true, top: row.match_id } : { flag: false };
      if (answer.flag !== library[i].flag || answer.top !== library[i].top) disagreements.push(`dedup --against on ${JSON.stringify(texts[i])}: ${JSON.stringify(answer)} vs ${JSON.stringify(library[i])}`);
    }
    console.log(`consistency: ${JSON.stringify({ texts: texts.length, flagged, disagreements: disagreements.length })}`);
    assert.deepEqual(disagreements, []);
    assert.ok(flagged >= 10 && flagged < texts.length, `a mix of flagged and clean texts (${flagged} flagged)`);
  });

  test('doppel search and doppel score agree with the library', async () => {
    for (const text of [...clean.slice(0, CLI_QUERIES / 2), ...texts.slice(QUERIES, QUERIES + CLI_QUERIES / 2)]) {
      const expected = answerOf(await index.search(text, { k: 5 }));
      const searched = JSON.parse((await doppel(['search', '--store', store, '--json', text])).stdout);
      assert.deepEqual(answerOf(searched.hits), expected, `doppel search ${text}`);
      assert.equal(searched.decision.operatingPoint, 'precise');
      const top = searched.hits[0];
      const scored = JSON.parse((await doppel(['score', '--store', store, '--json', text, top.text])).stdout);
      assert.equal(scored.isDuplicate, top.isDuplicate, `doppel score ${text}`);
      assert.ok(Math.abs(scored.probability - top.probability) < 1e-4, `probability ${scored.probability} vs ${top.probability}`);
    }
  });
});
