/** Disjoint sets over string keys (questions), with path compression. */
export class KeyedUnionFind {
  private readonly parent = new Map<string, string>();

  /** Registers a key as its own set; keys keep the order in which they were first seen. */
  add(x: string): void {
    if (!this.parent.has(x)) this.parent.set(x, x);
  }

  find(x: string): string {
    this.add(x);
    let root = x;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    let node = x;
    while (node !== root) {
      const next = this.parent.get(node)!;
      this.parent.set(node, root);
      node = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }

  /** Every set, its members in first-seen order, keyed by its root. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const key of this.parent.keys()) {
      const root = this.find(key);
      const members = out.get(root);
      if (members) members.push(key);
      else out.set(root, [key]);
    }
    return out;
  }
}
