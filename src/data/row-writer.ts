import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { DoppelError } from '../errors.js';
import { formatRow } from './delimited.js';
import { formatFromPath } from './records.js';

export const OUTPUT_FORMATS = ['tsv', 'csv', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Writes rows with a fixed set of columns as TSV, CSV (RFC 4180 quoting) or JSONL. */
export class RowWriter {
  private readonly stream: NodeJS.WritableStream;
  private headerWritten = false;

  constructor(
    readonly columns: string[],
    readonly format: OutputFormat,
    out?: string,
    force = false,
  ) {
    if (out) {
      RowWriter.assertWritable(out, force);
      this.stream = createWriteStream(out, { encoding: 'utf8' });
    } else {
      this.stream = process.stdout;
    }
  }

  /** Refuses to overwrite an existing file unless forced. */
  static assertWritable(out: string, force: boolean): void {
    if (existsSync(out) && !force) throw new DoppelError('INVALID_INPUT', `${out} exists; pass --force to overwrite it`);
  }

  static formatFor(out: string | undefined, requested?: string): OutputFormat {
    const f = requested ?? (out ? formatFromPath(out) : undefined) ?? 'tsv';
    if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) throw new DoppelError('INVALID_INPUT', `--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
    return f as OutputFormat;
  }

  private async write(line: string): Promise<void> {
    if (!this.stream.write(line + '\n')) await new Promise((resolve) => this.stream.once('drain', resolve));
  }

  async row(values: Record<string, string | number | boolean | null | undefined>): Promise<void> {
    if (this.format === 'jsonl') return this.write(JSON.stringify(Object.fromEntries(this.columns.map((c) => [c, values[c] ?? null]))));
    const delimiter = this.format === 'tsv' ? '\t' : ',';
    if (!this.headerWritten) {
      this.headerWritten = true;
      await this.write(formatRow(this.columns, delimiter));
    }
    await this.write(formatRow(this.columns.map((c) => (values[c] === undefined || values[c] === null ? '' : String(values[c]))), delimiter));
  }

  async close(): Promise<void> {
    if (this.format !== 'jsonl' && !this.headerWritten) {
      this.headerWritten = true;
      await this.write(formatRow(this.columns, this.format === 'tsv' ? '\t' : ','));
    }
    if (this.stream === process.stdout) return;
    await new Promise<void>((resolve, reject) => (this.stream as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
