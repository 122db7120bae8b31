/**
 * A token bucket per client: `rate` requests a second on average, bursts up to `burst`. At most
 * `maxClients` buckets are kept; past that the least recently seen client's bucket is dropped (a
 * Map iterates in insertion order and every take re-inserts its client), so a flood of new
 * addresses neither grows memory nor resets the buckets of clients that are being limited.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Buckets held now (at most maxClients). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token; returns the seconds to wait when there is none. `rate` (and a burst of twice it) replaces the limiter's own for this client. */
  take(client: string, now = performance.now(), rate = this.rate): number {
    // A whole token at least, else a key slower than one request in two seconds could never make one.
    const burst = rate === this.rate ? this.burst : Math.max(1, 2 * rate);
    let b = this.buckets.get(client);
    if (b) {
      this.buckets.delete(client);
    } else {
      b = { tokens: burst, at: now };
      // Oldest first: the first key is the client seen least recently.
      while (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(client, b);
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / rate;
  }
}
