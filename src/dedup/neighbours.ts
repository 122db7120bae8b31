import type { EnergyName } from '../encoder/config.js';
import type { Energy } from '../encoder/energies/registry.js';
import { DEFAULT_HNSW, type HnswParams } from '../search/backend.js';
import { ExactVectorIndex, searchByEnergy, spaceFor, VectorIndex } from '../search/directory/vector-index.js';
import type { Link } from './clustering.js';

/** Below this many texts an exact scan beats building a graph. */
export const EXACT_BELOW = 10_000;

/**
 * The store's graph (DEFAULT_HNSW), searched less broadly: dedup searches once from every text,
 * and a breadth of max(64, 2k) instead of the store's 128 found nearly every link the wider
 * search found on the real questions, in well under the link time.
 */
export function dedupHnsw(k: number): HnswParams {
  return { ...DEFAULT_HNSW, ef: Math.max(64, 2 * k) };
}

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
  const started = performance.now();
  const row = (i: number) => vectors.subarray(i * dim, (i + 1) * dim);
  const index = n < EXACT_BELOW ? ExactVectorIndex.create(space, dim, n) : VectorIndex.create(space, dim, dedupHnsw(options.k), n);
  for (let i = 0; i < n; i++) {
    index.add(i, row(i));
    if (i % 5000 === 4999 || i === n - 1) options.onProgress?.('index', i + 1, n);
  }
  const indexSeconds = (performance.now() - started) / 1000;
  const linkStarted = performance.now();
  const links: Link[] = [];
  const candidates: Link[] = [];
  for (let i = 0; i < n; i++) {
    const trueEnergies = (labels: number[]) => labels.map((j): [number, number] => [j, options.energy.vectors(row(i), row(j))]);
    // k + 1: the text itself is among its nearest.
    for (const { label: j, energy } of searchByEnergy(index, row(i), options.k + 1, options.energyName, trueEnergies)) {
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
