/**
 * A small LRU map (Map keeps insertion order; a hit re-inserts the key at the end). It holds at
 * most `capacity` entries and, when `weigh` is given, at most `maxWeight` in total weight (for
 * example characters), evicting the least recently used entries first.
 */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; weight: number }>();
  private totalWeight = 0;
  private readonly maxWeight: number;
  private readonly weigh?: (key: string, value: V) => number;

  constructor(
    private readonly capacity: number,
    options: { maxWeight?: number; weigh?: (key: string, value: V) => number } = {},
  ) {
    this.maxWeight = options.maxWeight ?? Infinity;
    this.weigh = options.weigh;
  }

  get size(): number {
    return this.map.size;
  }

  /** Total weight held (0 without a `weigh` function). */
  get weight(): number {
    return this.totalWeight;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const weight = this.weigh ? this.weigh(key, value) : 0;
    if (weight > this.maxWeight) return; // would evict everything and still not fit
    this.map.set(key, { value, weight });
    this.totalWeight += weight;
    while (this.map.size > this.capacity || this.totalWeight > this.maxWeight) this.delete(this.map.keys().next().value as string);
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.totalWeight -= e.weight;
  }

  clear(): void {
    this.map.clear();
    this.totalWeight = 0;
  }
}
