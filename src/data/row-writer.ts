import { DoppelError } from '../errors.js';
import { checkOutputPath, openOutputFile, type OutputFile, removeStaleTemps } from '../util/atomic-write.js';
import { formatRow } from './delimited.js';
import { formatFromPath } from './records.js';

export const OUTPUT_FORMATS = ['tsv', 'csv', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Writes rows with a fixed set of columns as TSV, CSV (RFC 4180 quoting) or JSONL, to stdout or
 * to a file. A file appears whole or not at all: rows go to a temporary beside it, renamed into
 * place by close(); abort() (or any failure) removes the temporary and leaves the old file as it was.
 * (An existing FIFO or device, such as /dev/stdout with --force, is written directly.)
 */
export class RowWriter {
  private readonly file: OutputFile | undefined;
  private headerWritten = false;

  constructor(
    readonly columns: string[],
    readonly format: OutputFormat,
    out?: string,
    force = false,
  ) {
    if (out) {
      RowWriter.assertWritable(out, force);
      this.file = openOutputFile(out);
    }
  }

  /**
   * Checks, before any work, that `out` can be written: its directory exists and is writable, it
   * is not a directory, and it is absent unless forced. Removes what a killed run left beside it.
   */
  static assertWritable(out: string, force: boolean): void {
    checkOutputPath(out, { what: '--out', kind: 'file', force });
    removeStaleTemps(out);
  }

  static formatFor(out: string | undefined, requested?: string): OutputFormat {
    const f = requested ?? (out ? formatFromPath(out) : undefined) ?? 'tsv';
    if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) throw new DoppelError('INVALID_INPUT', `--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
    return f as OutputFormat;
  }

  private async write(line: string): Promise<void> {
    if (this.file) return this.file.write(line + '\n');
    if (!process.stdout.write(line + '\n')) await new Promise((resolve) => process.stdout.once('drain', resolve));
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

  /** Finishes the output: a file is flushed and renamed into place. */
  async close(): Promise<void> {
    if (this.format !== 'jsonl' && !this.headerWritten) {
      this.headerWritten = true;
      await this.write(formatRow(this.columns, this.format === 'tsv' ? '\t' : ','));
    }
    await this.file?.commit();
  }

  /** Gives up: a file's temporary is removed and the target left untouched. */
  async abort(): Promise<void> {
    await this.file?.abort();
  }
}
