import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ftsQuery } from '../src/text/bm25-query.js';
import { LexicalIndex } from '../src/search/lexical/lexical-index.js';
import { InvertedIndex } from '../src/search/lexical/inverted-index.js';
import { foldedWords, terms } from '../src/text/bm25-analyzer.js';
import { idf, K1, B, topK } from '../src/search/lexical/top-k.js';
import { Random } from '../src/util/random.js';
import { BigramCounts, END, START } from '../src/search/lexical/bigrams.js';
import { slipShape } from '../src/search/lexical/spelling.js';
import { Vocabulary } from '../src/search/lexical/vocabulary.js';
import { SAMPLE_QUESTIONS } from './helpers.js';

const sample = readFileSync(SAMPLE_QUESTIONS, 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((line) => line.split('\t')[1]);

/** An FTS5 table configured as the store's, holding `texts` as rows 1..n. */
function fts5(texts: string[]) {
  const db = new Database(':memory:');
  db.exec("CREATE VIRTUAL TABLE f USING fts5(text, content='', tokenize='porter unicode61 remove_diacritics 2', prefix='2 3 4')");
  const insert = db.prepare('INSERT INTO f (rowid, text) VALUES (?, ?)');
  db.transaction(() => texts.forEach((t, i) => insert.run(i + 1, t)))();
  return db;
}

describe('lexical index', () => {
  test('makes the same terms as the FTS5 tokenizer of the store (unicode61 + porter)', () => {
    const words = [...new Set(sample.flatMap(foldedWords))].concat(['café', 'Ärger', 'ies', 'sses', 'generalizations', 'hopping', 'Überprüfung', '한글', 'どのくらい']);
    const db = fts5(words);
    db.exec("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')");
    const got = new Map<number, string[]>();
    for (const r of db.prepare('SELECT doc, term FROM v ORDER BY doc, offset').all() as { doc: number; term: string }[]) got.set(r.doc, [...(got.get(r.doc) ?? []), r.term]);
    const wrong = words.filter((w, i) => (got.get(i + 1) ?? []).join(' ') !== terms(w).join(' '));
    assert.deepEqual(wrong, [], 'words stemmed unlike FTS5');
  });

  test('ranks as FTS5 bm25() does, also after removals', () => {
    const db = fts5(sample);
    const lexical = new LexicalIndex();
    sample.forEach((t, i) => lexical.add(i + 1, t));
    const remove = db.prepare("INSERT INTO f (f, rowid, text) VALUES ('delete', ?, ?)");
    for (let i = 0; i < sample.length; i += 7) {
      remove.run(i + 1, sample[i]);
      lexical.remove(i + 1, sample[i]);
    }
    const search = db.prepare('SELECT rowid AS label, bm25(f) AS score FROM f WHERE f MATCH ? ORDER BY score LIMIT 10');
    let compared = 0;
    for (let i = 3; i < sample.length; i += 37) {
      const theirs = search.all(ftsQuery(sample[i])) as { label: number; score: number }[];
      const ours = lexical.search(sample[i], 10);
      assert.equal(ours.length, theirs.length);
      theirs.forEach((r, j) => assert.ok(Math.abs(-r.score - ours[j].bm25) <= 1e-3 * Math.abs(r.score), `query ${i}, rank ${j}: ${ours[j].bm25} vs ${-r.score}`));
      compared++;
    }
    assert.ok(compared > 50);
  });

  test('top-k is exactly the top k of scoring every match', () => {
    const index = new InvertedIndex();
    sample.forEach((t, i) => index.add(i, terms(t)));
    const rng = new Random(4);
    const lengths = index.documentLengths;
    const avg = index.averageLength;
    const part = (tf: number, length: number) => (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / avg));
    for (let q = 0; q < 100; q++) {
      const words = [...new Set(terms(sample[rng.int(sample.length)]))].filter((t) => index.postings(t));
      // The last few terms form one group, as a prefix's completions do (their frequencies add up).
      const grouped = words.length > 2 ? 1 + rng.int(3) : 0;
      const single = words.slice(0, words.length - grouped).map((t) => ({ lists: [index.postings(t)!], weight: idf(index.documents, index.postings(t)!.length) }));
      const group = grouped > 0 ? [{ lists: words.slice(-grouped).map((t) => index.postings(t)!), weight: 1 + rng.next() }] : [];
      const query = [...single, ...group];
      const k = 1 + rng.int(20);
      const exhaustive = new Map<number, number>();
      for (const { lists, weight } of query) {
        const tf = new Map<number, number>();
        for (const list of lists) for (let i = 0; i < list.length; i++) tf.set(list.docs[i], (tf.get(list.docs[i]) ?? 0) + list.tfs[i]);
        for (const [d, f] of tf) exhaustive.set(d, (exhaustive.get(d) ?? 0) + weight * part(f, lengths[d]));
      }
      const expected = [...exhaustive.values()].sort((a, b) => b - a).slice(0, k);
      const got = topK(query, k, lengths, avg, index.scratch).map((d) => d.score);
      assert.ok(index.scratch.scores.every((v) => v === 0) && index.scratch.counts.every((v) => v === 0), 'the scratch space is left clean');
      assert.equal(got.length, expected.length);
      got.forEach((s, i) => assert.ok(Math.abs(s - expected[i]) < 1e-9, `query ${q}, rank ${i}`));
    }
  });

  test('filters candidates, and keeps out removed documents', () => {
    const lexical = new LexicalIndex();
    ['learn python fast', 'learn python slowly', 'python snakes'].forEach((t, i) => lexical.add(i + 1, t));
    assert.deepEqual(lexical.search('python', 10, { accept: (l) => l !== 1 }).map((h) => h.label).sort(), [2, 3]);
    lexical.remove(2, 'learn python slowly');
    assert.deepEqual(lexical.search('python', 10).map((h) => h.label).sort(), [1, 3]);
  });

  test('a half-typed last word matches its completions, even with a slip in it', () => {
    const lexical = new LexicalIndex();
    sample.forEach((t, i) => lexical.add(i + 1, t));
    const withWord = (word: string) => (label: number) => sample[label - 1].toLowerCase().includes(word);
    const hits = lexical.search('pyth', 5, { prefix: true });
    assert.ok(hits.length > 0 && hits.every((h) => withWord('pyth')(h.label)), 'completions of "pyth"');
    const slipped = lexical.search('pyht', 5, { prefix: true });
    assert.ok(slipped.length > 0 && slipped.every((h) => withWord('pyth')(h.label)), '"pyht" is read as "pyth"');
  });

  test('mends slips from the corpus words and leaves known words alone', () => {
    const lexical = new LexicalIndex();
    sample.forEach((t, i) => lexical.add(i + 1, t));
    assert.equal(lexical.correct('How do I lern pyhton?'), 'How do I learn python?');
    assert.equal(lexical.correct('How do I learn Python?'), 'How do I learn Python?');
    // A word still being typed is left to prefix matching.
    assert.equal(lexical.correct('How do I learn pyt', { prefix: true }), 'How do I learn pyt');
  });

  test('mends by the whole sentence: context chooses among candidates, the lexicon adds words', () => {
    const corpus = [...Array(30).fill('Who won the war?'), ...Array(3).fill('Is Star Alliance good?'), 'Are these fuels exhausted?'];
    const lexical = new LexicalIndex({ lexicon: ['answerable'] });
    corpus.forEach((t, i) => lexical.add(i + 1, t));
    // "war" is ten times as frequent, but only "star" is followed by "alliance".
    assert.equal(lexical.correct('Is Sar Alliance good?'), 'Is star Alliance good?');
    assert.equal(lexical.correct('who won the sar?'), 'who won the war?');
    // No question holds "answerable"; the lexicon does.
    assert.equal(lexical.correct('Are these questions answerabel?'), 'Are these questions answerable?');
    assert.equal(new LexicalIndex().correct('Are these questions answerabel?'), 'Are these questions answerabel?');
  });
});

describe('spelling model parts', () => {
  test('a slip that makes one string of a few (deletion, swap) is likelier than one of many (insertion, substitution)', () => {
    assert.equal(slipShape('lern', 'learn'), 1 / 5 / 4);
    assert.equal(slipShape('leter', 'letter'), 2 / 6 / 4, 'either "t" deleted');
    assert.equal(slipShape('pyhton', 'python'), 1 / 5 / 4);
    assert.equal(slipShape('learrn', 'learn'), 2 / (6 * 26) / 4);
    assert.equal(slipShape('laarn', 'learn'), 1 / (5 * 25) / 4);
    assert.equal(slipShape('nrael', 'learn'), 0);
  });

  test('bigram counts match a plain count through adds, removes and growth', () => {
    const rng = new Random(5);
    const words = Array.from({ length: 300 }, (_, i) => `w${i}`);
    const vocabulary = new Vocabulary();
    const bigrams = new BigramCounts(vocabulary);
    const docs = Array.from({ length: 600 }, () => Array.from({ length: 1 + rng.int(8) }, () => words[rng.int(words.length)]));
    const plain = new Map<string, number>();
    const count = (doc: string[], by: number) => {
      const seq = [START, ...doc, END];
      for (let i = 1; i < seq.length; i++) plain.set(`${seq[i - 1]} ${seq[i]}`, (plain.get(`${seq[i - 1]} ${seq[i]}`) ?? 0) + by);
    };
    for (const doc of docs) {
      vocabulary.add(new Set(doc));
      bigrams.add(doc);
      count(doc, 1);
    }
    for (const doc of docs.filter((_, i) => i % 3 === 0)) {
      vocabulary.remove(new Set(doc));
      bigrams.remove(doc);
      count(doc, -1);
    }
    const live = [...plain].filter(([, n]) => n > 0);
    assert.ok(live.length > 1024, 'the table grew');
    for (const [pair, n] of plain) {
      const [a, b] = pair.split(' ');
      assert.equal(bigrams.count(a, b), n, pair);
    }
    assert.equal(bigrams.types, live.length);
    for (const w of [START, words[0], words[7]]) {
      const from = live.filter(([p]) => p.split(' ')[0] === w);
      const to = live.filter(([p]) => p.split(' ')[1] === w);
      assert.deepEqual(bigrams.contexts(w), { pairs: from.reduce((s, [, n]) => s + n, 0), after: from.length, before: to.length }, w);
    }
    assert.throws(() => bigrams.add(['never-counted']), /not in the vocabulary/);
  });
});

