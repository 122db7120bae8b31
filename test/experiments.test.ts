import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compareModels } from '../scripts/experiments/compare-models.js';
import { SAMPLE_PAIRS, tempDir } from './helpers.js';

describe('scripts/experiments/compare-models', () => {
  test('trains each configuration on one split and scores pairs and retrieval on held-out clusters', async () => {
    const out = tempDir(after);
    const report = await compareModels({
      pairs: SAMPLE_PAIRS,
      out,
      configs: ['seed', 'bilstm'],
      common: { epochs: 1, embeddingDim: 16, hidden: 16, batchSize: 64, vocabSize: 2000, seed: 3, validFraction: 0.2 },
    });
    assert.deepEqual(report.results.map((r) => r.name), ['seed', 'bilstm']);
    for (const r of report.results) {
      assert.ok(r.validation.rocAuc > 0 && r.validation.rocAuc <= 1, `${r.name}: ROC-AUC`);
      assert.equal(r.validation.pairs, report.validPairs, 'scored on the held-out split');
      assert.ok(r.retrieval.queries > 0 && r.retrieval.dense >= 0 && r.retrieval.hybrid <= 1, `${r.name}: retrieval`);
    }
    await assert.rejects(compareModels({ pairs: SAMPLE_PAIRS, out: join(out, 'x'), configs: ['nope'], common: { epochs: 1 } }), /unknown configuration 'nope'/);
  });
});
