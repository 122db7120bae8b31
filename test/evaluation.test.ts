import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateRetrieval } from '../src/evaluation/information-retrieval.js';
import { paraphraseMining } from '../src/evaluation/paraphrase-mining.js';
import type { DuplicateIndex } from '../src/search/stores.js';
import { questionHash, questionKey } from '../src/text/question-key.js';
import { padBatch } from '../src/text/encoder-tokenizer.js';
import { KeyedUnionFind, UnionFind } from '../src/util/union-find.js';

describe('paraphrase mining', () => {
  // Items: A=0 (and A', its exact duplicate), B=1, C=2, D=3; groups {A, B} and {D}.
  const items: Record<string, number> = { A: 0, "A'": 0, B: 1, C: 2, D: 3 };
  const mined = {
    itemOf: (text: string) => items[text],
    groupOf: (item: number) => [0, 0, -1, 1][item],
    candidates: [
      { a: 0, b: 1, energy: 0.1 },
      { a: 1, b: 3, energy: 0.2 },
      { a: 0, b: 2, energy: 0.3 },
    ],
  };
  const pairs = [
    { q1: 'A', q2: 'B', label: 1 as const }, // same group: TP, a gold link
    { q1: 'A', q2: "A'", label: 1 as const }, // one item: TP, not a link to mine
    { q1: 'A', q2: 'C', label: 1 as const }, // C in no group: FN, a gold link
    { q1: 'B', q2: 'D', label: 0 as const }, // different groups: TN
    { q1: 'A', q2: 'E', label: 1 as const }, // E not in the collection: not counted
  ];

  test('pairwise precision, recall and F1 of the groups; AP of the candidate links', () => {
    const m = paraphraseMining(pairs, mined);
    assert.deepEqual(Object.keys(m), ['pairs', 'precision', 'recall', 'f1', 'miningAveragePrecision']);
    assert.equal(m.pairs, 4);
    assert.equal(m.precision, 1);
    assert.equal(m.recall, 2 / 3);
    assert.ok(Math.abs(m.f1 - 0.8) < 1e-12);
    // Gold links 0:1 (rank 1) and 0:2 (rank 3) of three candidates: (1/1 + 2/3) / 2.
    assert.ok(Math.abs(m.miningAveragePrecision - 5 / 6) < 1e-12);
  });

  test('a gold link never mined counts as a miss in AP', () => {
    const m = paraphraseMining([...pairs, { q1: 'B', q2: 'C', label: 1 }], mined);
    assert.equal(m.recall, 2 / 4);
    assert.ok(Math.abs(m.miningAveragePrecision - (5 / 6) * (2 / 3)) < 1e-12);
  });
});

describe('information retrieval', () => {
  test('evaluateRetrieval searches each query without its own entry and averages the metrics', async () => {
    const asked: { text: string; exclude?: string[] }[] = [];
    const results: Record<string, string[]> = { q: ['x', 'r1', 'r2'], s: ['r3'] };
    const index = {
      searchMany: async (queries: { text: string; exclude?: string[] }[]) => {
        asked.push(...queries);
        return queries.map((q) => results[q.text].map((id) => ({ id })));
      },
    } as unknown as Pick<DuplicateIndex, 'searchMany'>;
    const task = {
      queries: [
        { queryId: 'Q1', corpusId: 'self', text: 'q' },
        { queryId: 'Q2', corpusId: '', text: 's' },
      ],
      relevant: new Map([
        ['Q1', new Set(['r1', 'r2'])],
        ['Q2', new Set(['r3'])],
      ]),
    };
    const m = await evaluateRetrieval(index, task, { mode: 'dense', k: 10 });
    assert.deepEqual(asked, [
      { text: 'q', exclude: ['self'] },
      { text: 's', exclude: [] },
    ]);
    assert.deepEqual(Object.keys(m), ['queries', 'mode', 'ndcg@10', 'mrr@10', 'recall@1', 'recall@10']);
    assert.equal(m.queries, 2);
    assert.equal(m.mode, 'dense');
    assert.equal(m['mrr@10'], (1 / 2 + 1) / 2);
    assert.equal(m['recall@1'], (0 + 1) / 2);
    assert.equal(m['recall@10'], 1);
  });
});

describe('logic kept in one place', () => {
  test('questionKey: one normalisation for equality; questionHash is it as a number', () => {
    assert.equal(questionKey('  How do I learn Python?? '), 'how do i learn python');
    assert.equal(questionKey('how do I LEARN python'), 'how do i learn python');
    assert.equal(questionKey('???'), '???', 'a text with no letter or digit is its own key');
    assert.notEqual(questionKey('???'), questionKey('!!!'));
    assert.equal(questionHash('How do I learn Python?'), questionHash('how do i learn python'));
    assert.notEqual(questionHash('???'), questionHash('!!!'));
  });

  test('padBatch pads right to the longest (or padTo), cuts longer rows, keeps one step for an empty one', () => {
    const b = padBatch([[5, 6, 7], [], [8]], 0);
    assert.deepEqual([b.count, b.length], [3, 3]);
    assert.deepEqual(Array.from(b.ids), [5, 6, 7, 0, 0, 0, 8, 0, 0]);
    assert.deepEqual(Array.from(b.lengths), [3, 1, 1]);
    const cut = padBatch([[5, 6, 7], [8]], 9, 2);
    assert.deepEqual(Array.from(cut.ids), [5, 6, 8, 9]);
    assert.deepEqual(Array.from(cut.lengths), [2, 1]);
  });

  test('UnionFind grows; KeyedUnionFind groups keys in first-seen order', () => {
    const uf = new UnionFind(2);
    for (let i = 0; i < 40; i++) uf.add();
    assert.equal(uf.length, 42);
    uf.union(0, 41);
    uf.union(41, 7);
    assert.equal(uf.find(7), uf.find(0));
    assert.notEqual(uf.find(1), uf.find(0));
    const keyed = new KeyedUnionFind();
    keyed.add('d');
    keyed.union('a', 'b');
    keyed.union('c', 'a');
    assert.equal(keyed.find('c'), keyed.find('b'));
    assert.deepEqual([...keyed.groups().values()], [['d'], ['a', 'b', 'c']]);
  });
});
