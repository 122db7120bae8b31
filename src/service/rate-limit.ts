/** A token bucket per client: `rate` requests a second on average, bursts up to `burst`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  /** Takes a token; returns the seconds to wait when there is none. */
  take(client: string, now = performance.now()): number {
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size > 10_000) this.buckets.clear(); // bounded memory under many clients
      this.buckets.set(client, (b = { tokens: this.burst, at: now }));
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.rate;
  }
}
