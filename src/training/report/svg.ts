/** Minimal inline-SVG charts for the training report (no external assets). */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const W = 420;
const H = 260;
const PAD = { left: 48, right: 12, top: 24, bottom: 36 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

function frame(title: string, xLabel: string, x0: number, x1: number, y0: number, y1: number, body: (sx: (x: number) => number, sy: (y: number) => number) => string, legend: Series[] | { name: string; color: string }[], integerX = false): string {
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map((t) => {
      const y = y0 + t * (y1 - y0);
      const x = integerX ? Math.round(x0 + t * (x1 - x0)) : x0 + t * (x1 - x0); // e.g. whole epochs
      return `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>` +
        `<text x="${PAD.left - 4}" y="${sy(y) + 4}" font-size="10" text-anchor="end">${fmt(y)}</text>` +
        `<text x="${sx(x)}" y="${H - PAD.bottom + 14}" font-size="10" text-anchor="middle">${fmt(x)}</text>`;
    })
    .join('');
  const keys = legend
    .map((s, i) => `<rect x="${PAD.left + 8 + i * 110}" y="8" width="10" height="10" fill="${s.color}"/><text x="${PAD.left + 22 + i * 110}" y="17" font-size="11">${esc(s.name)}</text>`)
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">` +
    `${grid}<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#999"/>` +
    `${body(sx, sy)}${keys}<text x="${(W + PAD.left) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(xLabel)}</text></svg></figure>`;
}

export function lineChart(title: string, xLabel: string, series: Series[], yRange?: [number, number]): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [y0, y1] = yRange ?? [Math.min(...ys), Math.max(...ys)];
  return frame(title, xLabel, Math.min(...xs), Math.max(...xs), y0, y1, (sx, sy) =>
    series
      .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>` +
        s.points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`).join(''))
      .join(''), series, xs.every(Number.isInteger));
}

export interface Histogram {
  name: string;
  color: string;
  values: ArrayLike<number>;
}

/** Overlaid histograms (as densities) with an optional vertical marker, e.g. the threshold. */
export function histogramChart(title: string, xLabel: string, groups: Histogram[], marker?: { x: number; label: string }, bins = 40): string {
  const all = groups.flatMap((g) => Array.from(g.values));
  if (all.length === 0) return '';
  const lo = Math.min(...all);
  const hi = Math.max(...all) + 1e-9;
  const width = (hi - lo) / bins;
  const densities = groups.map((g) => {
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < g.values.length; i++) counts[Math.min(bins - 1, Math.floor((g.values[i] - lo) / width))]++;
    return counts.map((c) => c / Math.max(1, g.values.length));
  });
  const top = Math.max(...densities.flat());
  return frame(title, xLabel, lo, hi, 0, top, (sx, sy) =>
    densities
      .map((d, gi) => d.map((v, b) => `<rect x="${sx(lo + b * width).toFixed(1)}" y="${sy(v).toFixed(1)}" width="${Math.max(0.5, sx(lo + width) - sx(lo) - 0.5).toFixed(1)}" height="${(sy(0) - sy(v)).toFixed(1)}" fill="${groups[gi].color}" fill-opacity="0.5"/>`).join(''))
      .join('') +
      (marker ? `<line x1="${sx(marker.x)}" x2="${sx(marker.x)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#000" stroke-dasharray="4 3"/><text x="${sx(marker.x) + 4}" y="${PAD.top + 24}" font-size="10">${esc(marker.label)}</text>` : ''), groups);
}
