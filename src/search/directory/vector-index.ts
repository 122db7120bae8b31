import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { EnergyName } from '../../encoder/config.js';
import type { HnswParams } from '../backend.js';
import { fsyncFile } from '../../util/atomic-write.js';

const { HierarchicalNSW, BruteforceSearch } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;
type Bruteforce = InstanceType<typeof BruteforceSearch>;



export interface Manifest {
  format: 'doppel-hnsw/1';
  modelId: string;
  space: 'l2' | 'cosine';
  dim: number;
  params: HnswParams;
  /** Live vectors in the file. */
  count: number;
  /** Slots used, deleted ones included: a cheap check that the file is the one described. */
  slots: number;
  /** The last store change applied to the graph in the file (not the store's generation at save time). */
  generation: number;
  /** Size of the graph file (absent in manifests of older versions). */
  bytes?: number;
}

/**
 * The hnswlib space for an energy. Euclidean and cosine are exact; hnswlib has no L1 space, so
 * Manhattan searches in L2 and the caller re-ranks the candidates by the true energy.
 */
export function spaceFor(energy: EnergyName): 'l2' | 'cosine' {
  return energy === 'cosine' ? 'cosine' : 'l2';
}

/** hnswlib's distance turned into the model's energy (l2 space returns squared distances). */
export function distanceToEnergy(energy: EnergyName, distance: number): number {
  return energy === 'euclidean' ? Math.sqrt(Math.max(0, distance)) : distance;
}

/** A nearest-neighbour index by label: what searchByEnergy needs of VectorIndex and ExactVectorIndex. */
export interface NeighbourSearch {
  search(query: ArrayLike<number>, k: number, filter?: (label: number) => boolean): { label: number; distance: number }[];
}

/**
 * L2 candidates fetched for k results that are re-ranked by the true energy: hnswlib has no L1
 * space, so Manhattan searches in L2 (spaceFor) and keeps the k of least L1 energy among these.
 */
export function rerankPool(k: number): number {
  return Math.max(4 * k, 50);
}

/**
 * The k nearest labels by the model's energy, least first. Euclidean and cosine energies come
 * from the index's distances; a Manhattan search takes rerankPool(k) L2 candidates and re-ranks
 * them by `trueEnergies` (the energies of the labels it can score; others are dropped).
 */
export function searchByEnergy(
  index: NeighbourSearch,
  query: ArrayLike<number>,
  k: number,
  energy: EnergyName,
  trueEnergies: (labels: number[]) => Iterable<[label: number, energy: number]>,
  filter?: (label: number) => boolean,
): { label: number; energy: number }[] {
  if (energy !== 'manhattan') return index.search(query, k, filter).map((r) => ({ label: r.label, energy: distanceToEnergy(energy, r.distance) }));
  const candidates = index.search(query, rerankPool(k), filter).map((r) => r.label);
  return [...trueEnergies(candidates)].map(([label, e]) => ({ label, energy: e })).sort((a, b) => a.energy - b.energy).slice(0, k);
}

/**
 * An exact scan over vectors added once (hnswlib's brute-force index, the same distances as the
 * graph): for a few thousand vectors it is faster than building a graph, and never misses.
 */
export class ExactVectorIndex implements NeighbourSearch {
  private constructor(
    private readonly scan: Bruteforce,
    readonly space: 'l2' | 'cosine',
    readonly dim: number,
  ) {}

  static create(space: 'l2' | 'cosine', dim: number, capacity: number): ExactVectorIndex {
    const scan = new BruteforceSearch(space, dim);
    scan.initIndex(Math.max(1, capacity));
    return new ExactVectorIndex(scan, space, dim);
  }

  get size(): number {
    return this.scan.getCurrentCount();
  }

  add(label: number, vector: ArrayLike<number>): void {
    this.scan.addPoint(Array.from(vector), label);
  }

  search(query: ArrayLike<number>, k: number, filter?: (label: number) => boolean): { label: number; distance: number }[] {
    const n = Math.min(k, this.size);
    if (n <= 0) return [];
    const { neighbors, distances } = this.scan.searchKnn(Array.from(query), n, filter);
    return neighbors.map((label, i) => ({ label, distance: distances[i] }));
  }
}

/** An HNSW graph over the live vectors, labelled by the store's internal ids. */
export class VectorIndex implements NeighbourSearch {
  private constructor(
    private readonly hnsw: Hnsw,
    readonly space: 'l2' | 'cosine',
    readonly dim: number,
    readonly params: HnswParams,
    private live: number,
  ) {}

  static create(space: 'l2' | 'cosine', dim: number, params: HnswParams, capacity = 1024): VectorIndex {
    const hnsw = new HierarchicalNSW(space, dim);
    hnsw.initIndex(capacity, params.m, params.efConstruction, 100, true);
    hnsw.setEf(params.ef);
    return new VectorIndex(hnsw, space, dim, params, 0);
  }

  /**
   * Loads a saved index if its manifest matches what is expected; returns undefined (never a
   * wrong index) when the file is missing, unreadable, truncated or from another model.
   */
  static load(file: string, manifestFile: string, expect: { modelId: string; space: 'l2' | 'cosine'; dim: number }): { index: VectorIndex; manifest: Manifest } | undefined {
    if (!existsSync(file) || !existsSync(manifestFile)) return undefined;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
    if (manifest.format !== 'doppel-hnsw/1' || manifest.modelId !== expect.modelId || manifest.space !== expect.space || manifest.dim !== expect.dim) return undefined;
    if (manifest.bytes !== undefined && statSync(file).size !== manifest.bytes) return undefined;
    try {
      const hnsw = new HierarchicalNSW(expect.space, expect.dim);
      hnsw.readIndexSync(file, true);
      hnsw.setEf(manifest.params.ef);
      const index = new VectorIndex(hnsw, expect.space, expect.dim, manifest.params, manifest.count);
      if (hnsw.getCurrentCount() !== manifest.slots) return undefined;
      return { index, manifest };
    } catch {
      return undefined;
    }
  }

  get size(): number {
    return this.live;
  }

  get capacity(): number {
    return this.hnsw.getMaxElements();
  }

  set ef(ef: number) {
    this.params.ef = ef;
    this.hnsw.setEf(ef);
  }

  has(label: number): boolean {
    try {
      this.hnsw.getPoint(label);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Adds a vector; reuses a deleted slot first and grows the graph when full. With `mayExist`, a
   * label already in the graph is updated in its own slot (checking costs a native exception when
   * the label is absent, so callers adding new labels skip it). Re-adding through a vacant slot
   * would leave the old slot carrying the label, and reusing that slot later would unlink the live
   * vector from its label, so it could never be removed.
   */
  add(label: number, vector: ArrayLike<number>, mayExist = false): void {
    const point = Array.from(vector);
    if (mayExist) {
      if (this.has(label)) return this.hnsw.addPoint(point, label, false);
      if (this.undelete(label)) {
        this.hnsw.addPoint(point, label, false);
        this.live++;
        return;
      }
    }
    const used = this.hnsw.getCurrentCount();
    const deleted = used - this.live;
    if (deleted === 0 && used >= this.hnsw.getMaxElements()) this.hnsw.resizeIndex(Math.max(1024, this.hnsw.getMaxElements() * 2));
    this.hnsw.addPoint(point, label, deleted > 0);
    this.live++;
  }

  /** Brings a deleted label back to its own slot; false when the graph never held it. */
  private undelete(label: number): boolean {
    try {
      this.hnsw.unmarkDelete(label);
      return true;
    } catch {
      return false;
    }
  }

  remove(label: number): void {
    if (!this.has(label)) return;
    this.hnsw.markDelete(label);
    this.live--;
  }

  /** k nearest live vectors, optionally only labels that pass `filter` (applied inside the graph search). */
  search(query: ArrayLike<number>, k: number, filter?: (label: number) => boolean): { label: number; distance: number }[] {
    const n = Math.min(k, this.live);
    if (n <= 0) return [];
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(query), n, filter);
    return neighbors.map((label, i) => ({ label, distance: distances[i] }));
  }

  /** Writes the graph and its manifest atomically: temporary files, then renames, manifest last. */
  save(file: string, manifestFile: string, manifest: Pick<Manifest, 'modelId' | 'generation'>): void {
    const full: Manifest = {
      format: 'doppel-hnsw/1',
      space: this.space,
      dim: this.dim,
      params: { ...this.params },
      count: this.live,
      slots: this.hnsw.getCurrentCount(),
      ...manifest,
    };
    const tmp = `${file}.tmp-${process.pid}`;
    const tmpManifest = `${manifestFile}.tmp-${process.pid}`;
    try {
      this.hnsw.writeIndexSync(tmp);
      fsyncFile(tmp); // on disk before any manifest can vouch for it, power cut included
      full.bytes = statSync(tmp).size;
      rmSync(manifestFile, { force: true }); // while the two disagree, no manifest vouches for the file
      renameSync(tmp, file);
      writeFileSync(tmpManifest, JSON.stringify(full, null, 2));
      fsyncFile(tmpManifest);
      renameSync(tmpManifest, manifestFile);
      fsyncFile(dirname(file));
    } finally {
      rmSync(tmp, { force: true });
      rmSync(tmpManifest, { force: true });
    }
  }
}

