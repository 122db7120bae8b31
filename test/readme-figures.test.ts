import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { README, readFigures, renderReadme } from '../scripts/readme-figures.js';

describe('README figures', () => {
  test('every figures table in the README is the rendering of bench-results.json', () => {
    const readme = readFileSync(README, 'utf8');
    assert.ok(/<!-- figures:benchmarks -->/.test(readme), 'the README has a benchmarks block');
    assert.equal(renderReadme(readme, readFigures()), readme, 'stale: run npm run bench, or node dist/scripts/readme-figures.js');
  });

  test('every figure says how it was made: its command, configuration and date', () => {
    for (const f of readFigures()) {
      assert.match(String(f.command), /^npm run bench -- \w+$/, f.metric);
      assert.ok(f.config && typeof f.config === 'object', f.metric);
      assert.ok(!Number.isNaN(Date.parse(String(f.date))), `${f.metric}: date`);
    }
  });

  test('blocks keep their names, order and text around them, and are never empty', () => {
    const readme = readFileSync(README, 'utf8');
    const names = (text: string) => [...text.matchAll(/<!-- figures:(\w+) -->/g)].map((m) => m[1]);
    const rendered = renderReadme(readme, readFigures());
    assert.deepEqual(names(rendered), names(readme));
    assert.deepEqual(names(readme), ['quality', 'retrieval', 'benchmarks']);
    for (const [, body] of rendered.matchAll(/<!-- figures:\w+ -->\n([\s\S]*?)\n<!-- \/figures -->/g)) {
      assert.ok(body.split('\n').length > 2, 'a block has a header and at least one row');
    }
    // Empty blocks next to each other: each is filled in place, the text between them kept.
    const empty = 'a\n<!-- figures:quality -->\n<!-- /figures -->\nmiddle\n<!-- figures:retrieval -->\n<!-- /figures -->\nz';
    const filled = renderReadme(empty, readFigures());
    assert.match(filled, /^a\n<!-- figures:quality -->\n\| pairs[\s\S]*\n<!-- \/figures -->\nmiddle\n<!-- figures:retrieval -->\n\| mode[\s\S]*\n<!-- \/figures -->\nz$/);
  });

  test('a rendered block changes with the results', () => {
    const readme = 'x\n<!-- figures:retrieval -->\nold\n<!-- /figures -->\ny';
    const out = renderReadme(readme, [{ bench: 'retrieval', metric: 'm', value: 0.5, unit: 'nDCG@10', config: { mode: 'dense' }, 'mrr@10': 0.6, 'recall@1': 0.4, 'recall@10': 0.7 }]);
    assert.match(out, /\| dense \| \*\*0\.5\*\* \| 0\.6 \| 0\.4 \| 0\.7 \|/);
    assert.throws(() => renderReadme('<!-- figures:nope -->\n\n<!-- /figures -->', []), /unknown figures block/);
  });
});
