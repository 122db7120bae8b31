/** Disjoint sets over the integers 0..n-1, with path halving and union by size; add() grows n. */
export class UnionFind {
  private parent: Int32Array;
  private size: Int32Array;
  private n: number;

  constructor(n = 0) {
    this.parent = Int32Array.from({ length: Math.max(n, 16) }, (_, i) => i);
    this.size = new Int32Array(this.parent.length).fill(1);
    this.n = n;
  }

  /** How many elements there are. */
  get length(): number {
    return this.n;
  }

  /** A new element in a set of its own; returns it (the previous length). */
  add(): number {
    if (this.n === this.parent.length) {
      const parent = new Int32Array(this.n * 2);
      parent.set(this.parent);
      const size = new Int32Array(this.n * 2);
      size.set(this.size);
      this.parent = parent;
      this.size = size;
    }
    const x = this.n++;
    this.parent[x] = x;
    this.size[x] = 1;
    return x;
  }

  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]];
      x = this.parent[x];
    }
    return x;
  }

  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size[ra] < this.size[rb]) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra] += this.size[rb];
  }
}

/** Disjoint sets over keys (questions), numbered in the order first seen and joined by a UnionFind. */
export class KeyedUnionFind<K = string> {
  private readonly ids = new Map<K, number>();
  private readonly keys: K[] = [];
  private readonly sets = new UnionFind();

  /** Registers a key as its own set; keys keep the order in which they were first seen. */
  add(x: K): void {
    this.id(x);
  }

  /** The key that stands for x's set. */
  find(x: K): K {
    return this.keys[this.sets.find(this.id(x))];
  }

  union(a: K, b: K): void {
    this.sets.union(this.id(a), this.id(b));
  }

  /** Every set, its members in first-seen order, keyed by its root. */
  groups(): Map<K, K[]> {
    const out = new Map<K, K[]>();
    this.keys.forEach((key, i) => {
      const root = this.keys[this.sets.find(i)];
      const members = out.get(root);
      if (members) members.push(key);
      else out.set(root, [key]);
    });
    return out;
  }

  private id(x: K): number {
    let i = this.ids.get(x);
    if (i === undefined) {
      i = this.sets.add();
      this.ids.set(x, i);
      this.keys.push(x);
    }
    return i;
  }
}
