/**
 * The development measure the spelling model (src/search/lexical/spelling.ts) was tuned on, kept
 * apart from the benchmark: a store of the bench's stored questions less every 31st, and those
 * every-31st questions (never the benchmark's queries) typed with one slip in every word of three
 * letters or more (scripts/bench/slips.ts) and typed cleanly. Prints one JSON object:
 *
 *   node dist/scripts/experiments/spelling-dev.js
 *
 * wordAccuracy and sentences: words, and whole questions, mended back to what was meant;
 * sameAsClean: the mended typed text equals the mended clean one (what search agreement needs);
 * cleanChanged: clean questions the mending changes at all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LexicalIndex } from '../../src/search/lexical/lexical-index.js';
import { foldedWords } from '../../src/text/bm25-analyzer.js';
import { Random } from '../../src/util/random.js';
import { realQuestions, ROOT, splitHeldOut } from '../bench/common.js';
import { withTypos } from '../bench/slips.js';

const { texts, dataset } = await realQuestions();
const { stored } = splitHeldOut(texts);
// The encoder's whole words, as the directory store gives them (directory-index.ts).
const tokenizer = JSON.parse(readFileSync(join(ROOT, 'data/models/default/tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
const lexical = new LexicalIndex({ lexicon: Object.keys(tokenizer.model.vocab).filter((t) => /^[a-z]+$/.test(t)) });
stored.forEach((t, i) => {
  if (i % 31 !== 0) lexical.add(i + 1, t);
});
const evaluated = stored.filter((_, i) => i % 31 === 0);
const rng = new Random(7);
let words = 0;
let right = 0;
let sentences = 0;
let same = 0;
let cleanChanged = 0;
const started = performance.now();
for (const clean of evaluated) {
  const typed = withTypos(clean, rng);
  const mended = foldedWords(lexical.correct(typed));
  const meant = foldedWords(clean);
  if (foldedWords(lexical.correct(clean)).join(' ') === mended.join(' ')) same++;
  if (lexical.correct(clean) !== clean) cleanChanged++;
  if (mended.length !== meant.length) continue;
  const ok = meant.filter((w, i) => w === mended[i]).length;
  words += meant.length;
  right += ok;
  if (ok === meant.length) sentences++;
}
const n = evaluated.length;
const round = (x: number) => Math.round(x * 1000) / 1000;
process.stdout.write(
  JSON.stringify({
    questions: n,
    stored: stored.length - n,
    dataset,
    wordAccuracy: round(right / words),
    sentences: round(sentences / n),
    sameAsClean: round(same / n),
    cleanChanged: round(cleanChanged / n),
    msPerText: round((performance.now() - started) / (3 * n)),
  }) + '\n',
);
