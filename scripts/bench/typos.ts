/**
 * Typo tolerance: 1,000 real questions (held out of the store), each with one random edit (a
 * letter deleted, inserted, substituted, or two swapped) in every word of three letters or more.
 * Two figures: the share whose top suggestion is the clean title's (what GET /v1/suggest computes:
 * prefix-aware hybrid, top 5), and the share whose top /v1/duplicates match (the same search
 * without the prefix, ordered by the verdict) is the clean text's.
 * DOPPEL_TYPO_STORE reuses a store of the real questions instead of building one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRow } from '../../src/data/delimited.js';
import { loadModel } from '../../src/model/load.js';
import { DuplicateIndex } from '../../src/search/stores.js';
import { importQuestions } from '../../src/search/import-file.js';
import { Random } from '../../src/util/random.js';
import { realQuestions, report, round, splitHeldOut } from './common.js';
import { withTypos } from './slips.js';

const TITLES = 1000;

const { texts, dataset } = await realQuestions();
const { stored, queries } = splitHeldOut(texts);
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-typos-'));
try {
  const model = await loadModel(undefined, { runtime: (process.env.DOPPEL_RUNTIME as 'onnx') ?? 'auto' });
  let store = process.env.DOPPEL_TYPO_STORE;
  if (!store) {
    store = join(dir, 'store');
    const file = join(dir, 'questions.tsv');
    writeFileSync(file, ['id\ttext', ...stored.map((t, i) => formatRow([`q${i}`, t], '\t'))].join('\n') + '\n');
    const building = await DuplicateIndex.open(store, { model });
    await importQuestions(building, file, { batchSize: 1024 });
    building.close();
  }
  const index = await DuplicateIndex.open(store, { model, readonly: true });
  const rng = new Random(2024);
  const suggest = async (q: string) => (await index.search(q, { k: 5, mode: 'hybrid', prefix: true }))[0]?.id;
  // As POST /v1/duplicates searches (its defaults), with the title's last word cut as typed.
  const duplicates = async (q: string) => (await index.search(q, { k: 5 }))[0]?.id;
  let agree = 0;
  let agreeDuplicates = 0;
  let asked = 0;
  const examples: { clean: string; typed: string }[] = [];
  for (const title of queries) {
    if (asked === TITLES) break;
    const clean = await suggest(title);
    if (clean === undefined) continue;
    const typed = withTypos(title, rng);
    if (examples.length < 3) examples.push({ clean: title, typed });
    asked++;
    if ((await suggest(typed)) === clean) agree++;
    if ((await duplicates(typed)) === (await duplicates(title))) agreeDuplicates++;
  }
  report({
    bench: 'typos',
    metric: 'suggest top-1 agreement, one typo in every word',
    value: round(agree / asked, 3),
    unit: 'agreement',
    target: '>= 0.85',
    config: { titles: asked, edit: 'one random deletion, insertion, substitution or swap in every word of 3+ letters (seed 2024)', k: 5, mode: 'hybrid, prefix', questions: stored.length, dataset },
    examples,
  });
  report({
    bench: 'typos',
    metric: '/v1/duplicates top-1 agreement, one typo in every word',
    value: round(agreeDuplicates / asked, 3),
    unit: 'agreement',
    target: '>= 0.85',
    config: { questions: asked, edit: 'as above, the same typed texts', k: 5, mode: 'hybrid, the verdict orders the matches', stored: stored.length, dataset },
  });
  index.close();
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
