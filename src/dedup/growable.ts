/** A typed array that grows by doubling, for data streamed in of unknown length. */
class Growable<T extends Float32Array | Int32Array> {
  private data: T;
  length = 0;

  constructor(
    private readonly make: (size: number) => T,
    initial: number,
  ) {
    this.data = make(initial);
  }

  push(value: number): void {
    this.reserve(1);
    this.data[this.length++] = value;
  }

  append(values: ArrayLike<number>): void {
    this.reserve(values.length);
    this.data.set(values, this.length);
    this.length += values.length;
  }

  view(): T {
    return this.data.subarray(0, this.length) as T;
  }

  /** Room for `more` values: the capacity doubles until they fit. */
  private reserve(more: number): void {
    if (this.length + more <= this.data.length) return;
    let size = Math.max(1, this.data.length) * 2;
    while (size < this.length + more) size *= 2;
    const next = this.make(size);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

export class GrowableFloat32 extends Growable<Float32Array> {
  constructor(initial = 1 << 16) {
    super((size) => new Float32Array(size), initial);
  }
}

export class GrowableInt32 extends Growable<Int32Array> {
  constructor(initial = 1 << 16) {
    super((size) => new Int32Array(size), initial);
  }
}
