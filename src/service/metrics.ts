/**
 * Request latency histograms per route, rendered in the Prometheus text format. Callers pass
 * only declared route patterns (or UNMATCHED_ROUTE) and methods are folded to a fixed set, so the
 * number of series is bounded by routes x methods x statuses, whatever clients send.
 */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  buckets: number[];
  count: number;
  sum: number;
}

/** The route label of every request that matched no declared route (404s, early 401/415/429). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A method label from a fixed set: anything else the HTTP parser accepts becomes 'other'. */
export const methodLabel = (method: string) => (METHODS.has(method) ? method : 'other');

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly latency = new Map<string, Series>();
  private readonly requests = new Map<string, number>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${methodLabel(method)}",route="${label(route)}"`;
    let s = this.latency.get(key);
    if (!s) this.latency.set(key, (s = { buckets: new Array(BUCKETS.length).fill(0), count: 0, sum: 0 }));
    s.count++;
    s.sum += seconds;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) s!.buckets[i]++;
    });
    const rkey = `${key},status="${status}"`;
    this.requests.set(rkey, (this.requests.get(rkey) ?? 0) + 1);
  }

  render(gauges: { name: string; help: string; value: number; labels?: Record<string, string> }[]): string {
    const out: string[] = [
      '# HELP doppel_http_request_duration_seconds HTTP request latency by route.',
      '# TYPE doppel_http_request_duration_seconds histogram',
    ];
    for (const [key, s] of this.latency) {
      BUCKETS.forEach((b, i) => out.push(`doppel_http_request_duration_seconds_bucket{${key},le="${b}"} ${s.buckets[i]}`));
      out.push(`doppel_http_request_duration_seconds_bucket{${key},le="+Inf"} ${s.count}`);
      out.push(`doppel_http_request_duration_seconds_sum{${key}} ${s.sum}`);
      out.push(`doppel_http_request_duration_seconds_count{${key}} ${s.count}`);
    }
    out.push('# HELP doppel_http_requests_total HTTP requests by route and status.', '# TYPE doppel_http_requests_total counter');
    for (const [key, n] of this.requests) out.push(`doppel_http_requests_total{${key}} ${n}`);
    for (const g of gauges) {
      const labels = g.labels ? `{${Object.entries(g.labels).map(([k, v]) => `${k}="${label(v)}"`).join(',')}}` : '';
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name}${labels} ${g.value}`);
    }
    return out.join('\n') + '\n';
  }
}
