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

  test('a rendered block changes with the results', () => {
    const readme = 'x\n<!-- figures:retrieval -->\nold\n<!-- /figures -->\ny';
    const out = renderReadme(readme, [{ bench: 'retrieval', metric: 'm', value: 0.5, unit: 'nDCG@10', config: { mode: 'dense' }, 'mrr@10': 0.6, 'recall@1': 0.4, 'recall@10': 0.7 }]);
    assert.match(out, /\| dense \| \*\*0\.5\*\* \| 0\.6 \| 0\.4 \| 0\.7 \|/);
    assert.throws(() => renderReadme('<!-- figures:nope -->\n\n<!-- /figures -->', []), /unknown figures block/);
  });
});
