import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENERGIES } from '../src/encoder/energies/registry.js';
import { DEFAULT_HNSW } from '../src/search/backend.js';
import { ExactVectorIndex, rerankPool, searchByEnergy, VectorIndex } from '../src/search/directory/vector-index.js';
import { Random } from '../src/util/random.js';

describe('searchByEnergy: one search by energy for the store and dedup', () => {
  const dim = 8;
  const rng = new Random(3);
  const rows = Array.from({ length: 400 }, () => Float32Array.from({ length: dim }, () => rng.normal()));
  const query = Float32Array.from({ length: dim }, () => rng.normal());
  const byEnergy = (name: 'manhattan' | 'euclidean', k: number) =>
    rows
      .map((v, label) => ({ label, energy: ENERGIES[name].vectors(query, v) }))
      .sort((a, b) => a.energy - b.energy)
      .slice(0, k);
  const trueEnergies = (labels: number[]) => labels.map((l): [number, number] => [l, ENERGIES.manhattan.vectors(query, rows[l])]);

  test('Manhattan: L2 candidates re-ranked by the true L1 energy give the exact L1 top k', () => {
    const exact = ExactVectorIndex.create('l2', dim, rows.length);
    rows.forEach((v, i) => exact.add(i, v));
    const found = searchByEnergy(exact, query, 10, 'manhattan', trueEnergies);
    const expected = byEnergy('manhattan', 10);
    assert.deepEqual(found.map((f) => f.label), expected.map((e) => e.label));
    found.forEach((f, i) => assert.ok(Math.abs(f.energy - expected[i].energy) < 1e-5));
    assert.equal(rerankPool(10), 50);
    assert.equal(rerankPool(20), 80);
  });

  test('Euclidean comes straight from the distances (square roots of squared L2), in the graph as in the exact scan', () => {
    const expected = byEnergy('euclidean', 5);
    const graph = VectorIndex.create('l2', dim, { ...DEFAULT_HNSW }, rows.length);
    const exact = ExactVectorIndex.create('l2', dim, rows.length);
    rows.forEach((v, i) => {
      graph.add(i, v);
      exact.add(i, v);
    });
    for (const index of [graph, exact]) {
      const found = searchByEnergy(index, query, 5, 'euclidean', () => assert.fail('no re-ranking'));
      assert.deepEqual(found.map((f) => f.label), expected.map((e) => e.label));
      found.forEach((f, i) => assert.ok(Math.abs(f.energy - expected[i].energy) < 1e-4));
    }
  });
});
