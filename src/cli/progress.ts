import { formatSeconds } from '../util/format.js';

/** A one-line progress bar on stderr; on a non-terminal it prints a plain line every ~10%. */
export class ProgressBar {
  private lastDraw = 0;
  private lastDecile = -1;
  private started = performance.now();
  /** Work already done when the bar was first drawn: the rate counts only what follows. */
  private base: number | undefined;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'items',
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, extra = ''): void {
    const now = performance.now();
    if (this.base === undefined && done < this.total) {
      this.base = done;
      this.started = now;
    }
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? (done - (this.base ?? 0)) / seconds : 0;
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const text = `${this.label} ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${this.total} ${this.unit} ${rate.toFixed(0)} ${this.unit}/s ETA ${formatSeconds(eta)}${extra ? ' ' + extra : ''}`;
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(fraction * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\x1b[K`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.stream.write(text + '\n');
    }
  }

  done(message = ''): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
    if (message) this.stream.write(message + '\n');
  }
}

/** One bar per named stage, created on the stage's first report and closed when it completes. */
export function stageBars(unit: string): (stage: string, done: number, total: number) => void {
  const bars = new Map<string, ProgressBar>();
  return (stage, done, total) => {
    let bar = bars.get(stage);
    if (!bar) bars.set(stage, (bar = new ProgressBar(stage, total, unit)));
    bar.update(done);
    if (done === total) bar.done();
  };
}
