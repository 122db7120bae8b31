/** A Float32Array/Int32Array that grows by doubling, for data streamed in of unknown length. */
export class GrowableFloat32 {
  private data: Float32Array;
  length = 0;
  constructor(initial = 1 << 16) {
    this.data = new Float32Array(initial);
  }
  push(values: Float32Array): void {
    if (this.length + values.length > this.data.length) {
      let size = this.data.length * 2;
      while (size < this.length + values.length) size *= 2;
      const next = new Float32Array(size);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  view(): Float32Array {
    return this.data.subarray(0, this.length);
  }
}

export class GrowableInt32 {
  private data: Int32Array;
  length = 0;
  constructor(initial = 1 << 16) {
    this.data = new Int32Array(initial);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** 52-bit hash of a string (two FNV-1a lanes): exact-duplicate keys without keeping the strings. */
export function hash52(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 0) & 0xfffff);
}
