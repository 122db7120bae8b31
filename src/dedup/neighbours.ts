import hnswlib from 'hnswlib-node';
import type { EnergyName } from '../model/config.js';
import type { Energy } from '../model/energies/registry.js';
import { distanceToEnergy, spaceFor } from '../search/vector-index.js';
import type { Link } from './clustering.js';

const { HierarchicalNSW, BruteforceSearch } = hnswlib;

/** Below this many texts an exact scan beats building a graph. */
export const EXACT_BELOW = 10_000;

export interface NeighbourOptions {
  k: number;
  /** Also return every neighbour pair, linked or not (for mining AP). */
  collectCandidates?: boolean;
  threshold: number;
  energyName: EnergyName;
  energy: Energy;
  onProgress?: (stage: 'index' | 'link', done: number, total: number) => void;
}

/**
 * Candidate duplicate links: each text's k nearest neighbours whose energy is within the
 * threshold, each unordered pair once.
 */
export function nearestLinks(vectors: Float32Array, dim: number, options: NeighbourOptions): { links: Link[]; candidates: Link[]; indexSeconds: number; linkSeconds: number } {
  const n = vectors.length / dim;
  const space = spaceFor(options.energyName);
  const exact = n < EXACT_BELOW;
  const started = performance.now();
  const row = (i: number) => vectors.subarray(i * dim, (i + 1) * dim);
  const index = exact ? new BruteforceSearch(space, dim) : new HierarchicalNSW(space, dim);
  if (exact) (index as InstanceType<typeof BruteforceSearch>).initIndex(Math.max(1, n));
  else {
    (index as InstanceType<typeof HierarchicalNSW>).initIndex(n, 16, 100, 100);
    (index as InstanceType<typeof HierarchicalNSW>).setEf(Math.max(64, 2 * options.k));
  }
  for (let i = 0; i < n; i++) {
    index.addPoint(Array.from(row(i)), i);
    if (i % 5000 === 4999 || i === n - 1) options.onProgress?.('index', i + 1, n);
  }
  const indexSeconds = (performance.now() - started) / 1000;
  const linkStarted = performance.now();
  const links: Link[] = [];
  const candidates: Link[] = [];
  const wanted = Math.min(n, options.k + 1 + (options.energyName === 'manhattan' ? 3 * options.k : 0));
  for (let i = 0; i < n; i++) {
    const { neighbors, distances } = index.searchKnn(Array.from(row(i)), wanted);
    let found = neighbors.map((j, r) => ({ j, energy: options.energyName === 'manhattan' ? options.energy.vectors(row(i), row(j)) : distanceToEnergy(options.energyName, distances[r]) }));
    if (options.energyName === 'manhattan') found = found.sort((a, b) => a.energy - b.energy);
    for (const { j, energy } of found.slice(0, options.k + 1)) {
      if (j === i) continue;
      const link = { a: Math.min(i, j), b: Math.max(i, j), energy };
      if (options.collectCandidates) candidates.push(link);
      if (energy <= options.threshold) links.push(link);
    }
    if (i % 5000 === 4999 || i === n - 1) options.onProgress?.('link', i + 1, n);
  }
  return { links: unique(links), candidates: unique(candidates), indexSeconds, linkSeconds: (performance.now() - linkStarted) / 1000 };
}

/** Each unordered pair once (a pair is found from both ends when each is in the other's top k). */
function unique(links: Link[]): Link[] {
  links.sort((x, y) => x.a - y.a || x.b - y.b);
  return links.filter((l, i) => i === 0 || l.a !== links[i - 1].a || l.b !== links[i - 1].b);
}
