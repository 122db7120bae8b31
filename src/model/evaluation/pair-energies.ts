import type { Pair } from '../../data/pairs.js';
import type { Energy } from '../energies/registry.js';
import type { TextEncoder } from '../text-encoder.js';

/** Energies of labelled pairs, each distinct text encoded once. */
export async function pairEnergies(encoder: TextEncoder, energy: Energy, pairs: readonly Pair[]): Promise<{ energies: Float32Array; labels: Float32Array }> {
  const index = new Map<string, number>();
  for (const p of pairs) for (const q of [p.q1, p.q2]) if (!index.has(q)) index.set(q, index.size);
  const vectors = await encoder.encode([...index.keys()]);
  const dim = encoder.dim;
  const row = (q: string) => vectors.subarray(index.get(q)! * dim, (index.get(q)! + 1) * dim);
  return {
    energies: Float32Array.from(pairs, (p) => energy.vectors(row(p.q1), row(p.q2))),
    labels: Float32Array.from(pairs, (p) => p.label),
  };
}
