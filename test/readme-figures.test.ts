import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { DOC, readFigures, renderDoc } from '../scripts/benchmarks-doc.js';

describe('benchmark figures (docs/benchmarks.md)', () => {
  test('every figures table in docs/benchmarks.md is the rendering of bench-results.json', () => {
    const doc = readFileSync(DOC, 'utf8');
    assert.ok(/<!-- figures:benchmarks -->/.test(doc), 'docs/benchmarks.md has a benchmarks block');
    assert.equal(renderDoc(doc, readFigures()), doc, 'stale: run npm run bench, or node dist/scripts/benchmarks-doc.js');
  });

  test('the README keeps no figure tables of its own and links to the benchmarks document', () => {
    const readme = readFileSync(join(dirname(DOC), '../README.md'), 'utf8');
    assert.doesNotMatch(readme, /<!-- figures:/);
    assert.match(readme, /\]\(docs\/benchmarks\.md\)/);
  });

  test('every figure says how it was made: its command, configuration and date', () => {
    for (const f of readFigures()) {
      assert.match(String(f.command), /^npm run bench -- [\w-]+$/, f.metric);
      assert.ok(f.config && typeof f.config === 'object', f.metric);
      assert.ok(!Number.isNaN(Date.parse(String(f.date))), `${f.metric}: date`);
    }
  });

  test('blocks keep their names, order and text around them, and are never empty', () => {
    const doc = readFileSync(DOC, 'utf8');
    const names = (text: string) => [...text.matchAll(/<!-- figures:(\w+) -->/g)].map((m) => m[1]);
    const rendered = renderDoc(doc, readFigures());
    assert.deepEqual(names(rendered), names(doc));
    assert.deepEqual(names(doc), ['reference', 'quality', 'retrieval', 'benchmarks', 'postgres']);
    for (const [, body] of rendered.matchAll(/<!-- figures:\w+ -->\n([\s\S]*?)\n<!-- \/figures -->/g)) {
      assert.ok(body.split('\n').length > 2, 'a block has a header and at least one row');
    }
    // Empty blocks next to each other: each is filled in place, the text between them kept.
    const empty = 'a\n<!-- figures:quality -->\n<!-- /figures -->\nmiddle\n<!-- figures:retrieval -->\n<!-- /figures -->\nz';
    const filled = renderDoc(empty, readFigures());
    assert.match(filled, /^a\n<!-- figures:quality -->\n\| pairs[\s\S]*\n<!-- \/figures -->\nmiddle\n<!-- figures:retrieval -->\n\| mode[\s\S]*\n<!-- \/figures -->\nz$/);
  });

  test('a rendered block changes with the results', () => {
    const doc = 'x\n<!-- figures:retrieval -->\nold\n<!-- /figures -->\ny';
    const out = renderDoc(doc, [{ bench: 'retrieval', metric: 'm', value: 0.5, unit: 'nDCG@10', config: { mode: 'dense' }, 'mrr@10': 0.6, 'recall@1': 0.4, 'recall@10': 0.7 }]);
    assert.match(out, /\| dense \| \*\*0\.5\*\* \| 0\.6 \| 0\.4 \| 0\.7 \|/);
    assert.throws(() => renderDoc('<!-- figures:nope -->\n\n<!-- /figures -->', []), /unknown figures block/);
  });

  test('the benchmarks block gives each bench its own table, and leaves out the older commit\'s baseline rows', () => {
    const figures = [
      { bench: 'encode', metric: 'encoding, ONNX Runtime 1 thread', value: 12000, unit: 'questions/s', config: {}, ratioToTfjs: 5.5 },
      { bench: 'service', metric: '/healthz p99 latency, 1 connection', value: 1, unit: 'ms', config: { route: '/healthz', connections: 1 }, p50: 0 },
      { bench: 'baseline', metric: '/healthz p99 latency, 1 connection', value: 2, unit: 'ms', config: { of: 'service', route: '/healthz', connections: 1 } },
    ];
    const out = renderDoc('<!-- figures:benchmarks -->\n<!-- /figures -->', figures);
    assert.match(out, /### Encoding\n\n`npm run bench -- encode`\n\n\| figure \|[^\n]*\n[^\n]*\n\| encoding, ONNX Runtime 1 thread \| \*\*12,000 questions\/s\*\* \|  \| 5\.5x tfjs wasm \|/);
    assert.match(out, /### HTTP service\n\n`npm run bench -- service`\n\n[\s\S]*\| \/healthz p99 latency, 1 connection \| \*\*1 ms\*\* \|  \| p50 0 ms \|/);
    assert.doesNotMatch(out, /baseline|\*\*2 ms\*\*/);
  });

  test('the PostgreSQL block sets each store beside the other, and keeps its figures out of the benchmarks table', () => {
    const config = { questions: 20000, queries: 1000 };
    const figures = [
      { bench: 'postgres', metric: 'q', value: 0.681, unit: 'nDCG@10', config: { ...config, mode: 'dense' }, 'mrr@10': 0.7, directory: { 'ndcg@10': 0.68, 'mrr@10': 0.71 }, difference: 0.001 },
      { bench: 'postgres', metric: 's', value: 9.5, unit: 'ms', config: { ...config, mode: 'hybrid' }, p50: 4, directory: { p50: 1, p99: 5 }, ratioToDirectory: { p50: 4, p99: 1.9 } },
    ];
    const out = renderDoc('<!-- figures:postgres -->\n<!-- /figures -->\n<!-- figures:benchmarks -->\n<!-- /figures -->', figures);
    assert.match(out, /\| dense \| 20,000 \| 1,000 \| 0\.68 \| \*\*0\.681\*\* \| \+0\.001 \| 0\.71 \| 0\.7 \|/);
    assert.match(out, /\| hybrid \| 20,000 \| 1,000 \| 1 \/ 5 \| 4 \/ \*\*9\.5\*\* \| 4x \/ 1\.9x \|/);
    assert.doesNotMatch(out.slice(out.indexOf('figures:benchmarks')), /postgres/);
  });
});
