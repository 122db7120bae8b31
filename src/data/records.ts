import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { DoppelError, invalidFile } from '../errors.js';

export type RecordFormat = 'tsv' | 'csv' | 'jsonl' | 'text';

/** One row of a data file, keyed by header column, with its 1-based line number. */
export interface Row {
  line: number;
  values: Record<string, string>;
  /**
   * Set when the row could not be read whole; values then hold what could be read (the fields
   * of a row with the wrong number of fields, nothing otherwise), so callers can name its id.
   */
  problem?: string;
  /** Set when the row was read, but leniently (a TSV quote taken literally): worth a look. */
  warning?: string;
}

/** Longest physical line read (bytes); a longer one is reported and skipped, never held whole. */
export const MAX_LINE_BYTES = 1 << 20;
/** Most physical lines a quoted field may span before its opening quote counts as unclosed. */
export const MAX_RECORD_LINES = 100;

export function formatFromPath(path: string): RecordFormat | undefined {
  switch (extname(path).toLowerCase()) {
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.csv':
      return 'csv';
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.txt':
      return 'text';
    default:
      return undefined;
  }
}

/** A physical line: its text, or why it cannot be read (too long, not UTF-8, a NUL byte). */
type Line = { line: number; text: string; problem?: undefined } | { line: number; text?: undefined; problem: string; lossy?: string };

const formatBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

function decodeLine(line: number, bytes: Buffer): Line {
  if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1); // CRLF
  // `lossy` lets a bad line still name its id in the report.
  if (!isUtf8(bytes)) return { line, problem: 'not valid UTF-8 (is the file in another encoding? save it as UTF-8)', lossy: bytes.toString('utf8') };
  const text = bytes.toString('utf8');
  if (text.includes('\0')) return { line, problem: 'contains a NUL byte (binary data, or UTF-16 text?)', lossy: text };
  return { line, text };
}

/**
 * Splits a file into physical lines (LF or CRLF) as bytes, decodes each as strict UTF-8 and
 * yields them a read-chunk at a time. A leading UTF-8 BOM is dropped; a UTF-16 BOM is refused.
 * A line over `maxBytes` is reported with its number and skipped as it streams past, so memory
 * stays bounded whatever the file holds.
 */
async function* physicalLines(path: string, maxBytes: number): AsyncGenerator<Line[]> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let pieces: Buffer[] = []; // the start of the current line, from earlier chunks
  let held = 0; // bytes in pieces
  let overflow = 0; // > 0 while skipping an over-long line: its length so far
  let line = 0;
  let first = true;
  const finish = (segment: Buffer, out: Line[]) => {
    line++;
    if (overflow > 0) {
      out.push({ line, problem: `line is ${formatBytes(overflow)} long, over the limit of ${formatBytes(maxBytes)}` });
      overflow = 0;
      return;
    }
    const bytes = pieces.length === 0 ? segment : Buffer.concat([...pieces, segment]);
    pieces = [];
    held = 0;
    out.push(decodeLine(line, bytes));
  };
  const take = (segment: Buffer) => {
    if (overflow > 0) overflow += segment.length;
    else if (held + segment.length > maxBytes) {
      overflow = held + segment.length;
      pieces = [];
      held = 0;
    } else if (segment.length > 0) {
      pieces.push(segment);
      held += segment.length;
    }
  };
  for await (let chunk of stream as AsyncIterable<Buffer>) {
    if (first) {
      first = false;
      if (chunk.length >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
        stream.destroy();
        throw new DoppelError('INVALID_FILE', `${path}: the file is UTF-16 text; save it as UTF-8`);
      }
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const out: Line[] = [];
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        take(chunk.subarray(pos));
        break;
      }
      const segment = chunk.subarray(pos, nl);
      if (overflow > 0 || held + segment.length > maxBytes) {
        take(segment);
        finish(Buffer.alloc(0), out);
      } else finish(segment, out);
      pos = nl + 1;
    }
    if (out.length > 0) yield out;
  }
  if (held > 0 || overflow > 0) {
    const out: Line[] = [];
    finish(Buffer.alloc(0), out);
    yield out;
  }
}

/** A delimited record before the header is applied. */
interface RawRecord {
  line: number;
  fields: string[];
  problem?: string;
  warning?: string;
}

/**
 * RFC 4180 records from physical lines: a field that starts with a double quote may hold the
 * delimiter, "" for a quote and line breaks; quotes elsewhere are literal. A quoted field that
 * does not close properly (no closing quote within `maxLines` lines or by the end of the file, or
 * text after the closing quote) never swallows the lines after it: in CSV its record is reported
 * at the line where it starts; in TSV (where bare quotes are common) that line is read again with
 * the quotes of such fields taken literally, and a warning. Either way the lines that followed are
 * parsed afresh.
 */
class DelimitedParser {
  private open: Line[] = []; // lines of a record whose quoted field is still open
  private openChars = 0;
  private fields: string[] = [];
  private field = '';

  constructor(
    private readonly delimiter: string,
    private readonly lenient: boolean,
    private readonly maxLines: number,
    private readonly maxChars: number,
  ) {}

  feed(item: Line, out: RawRecord[]): void {
    const work: Line[] = [item];
    while (work.length > 0) {
      const it = work.shift()!;
      if (this.open.length > 0) {
        if (it.text === undefined) {
          work.unshift(...this.abandon('unclosed', out), it);
          continue;
        }
        this.open.push(it);
        this.openChars += it.text.length;
        const state = this.scan(it.text, 0, true);
        if (state === 'done') this.complete(out);
        else if (state === 'junk') work.unshift(...this.abandon('junk', out));
        else if (this.open.length >= this.maxLines || this.openChars > this.maxChars) work.unshift(...this.abandon('unclosed', out));
        continue;
      }
      if (it.text === undefined) {
        out.push({ line: it.line, fields: it.lossy?.split(this.delimiter) ?? [], problem: it.problem });
        continue;
      }
      if (it.text.length === 0) continue; // blank line
      if (!it.text.includes('"')) {
        out.push({ line: it.line, fields: it.text.split(this.delimiter) });
        continue;
      }
      this.open = [it];
      this.openChars = it.text.length;
      this.fields = [];
      this.field = '';
      const state = this.scan(it.text, 0, false);
      if (state === 'done') this.complete(out);
      else if (state === 'junk') work.unshift(...this.abandon('junk', out));
      else if (this.maxLines <= 1) work.unshift(...this.abandon('unclosed', out));
    }
  }

  /** At the end of the file: an open quoted field is unclosed. */
  end(out: RawRecord[]): void {
    let rest = this.open.length > 0 ? this.abandon('eof', out) : [];
    while (rest.length > 0) {
      const [first, ...others] = rest;
      this.feed(first, out);
      rest = others;
      if (rest.length === 0 && this.open.length > 0) rest = this.abandon('eof', out);
    }
  }

  private complete(out: RawRecord[]): void {
    out.push({ line: this.open[0].line, fields: this.fields });
    this.open = [];
    this.fields = [];
  }

  /**
   * Scans one line from `i`, inside a quoted field when `quoted`. Returns whether the record is
   * complete, still inside a quoted field at the end of the line, or malformed (a closing quote
   * followed by something other than the delimiter or the end of the line).
   */
  private scan(text: string, i: number, quoted: boolean): 'done' | 'open' | 'junk' {
    const d = this.delimiter;
    for (;;) {
      if (quoted) {
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            this.field += text.slice(i) + '\n';
            return 'open';
          }
          this.field += text.slice(i, q);
          if (text.charCodeAt(q + 1) === 34) {
            this.field += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        this.fields.push(this.field);
        this.field = '';
        if (i === text.length) return 'done';
        if (text[i] !== d) return 'junk';
        i++;
        quoted = false;
      }
      if (text.charCodeAt(i) === 34) {
        quoted = true;
        i++;
        continue;
      }
      const k = text.indexOf(d, i);
      if (k < 0) {
        this.fields.push(text.slice(i));
        return 'done';
      }
      this.fields.push(text.slice(i, k));
      i = k + 1;
    }
  }

  /** Gives up on the open record: reports (CSV) or re-reads literally (TSV) its first line; returns the others to parse again. */
  private abandon(kind: 'junk' | 'unclosed' | 'eof', out: RawRecord[]): Line[] {
    const [start, ...rest] = this.open;
    this.open = [];
    this.fields = [];
    this.field = '';
    const why =
      kind === 'junk'
        ? 'the quoted field opened on this line has text after its closing quote'
        : kind === 'eof'
          ? 'a quote opened on this line is not closed by the end of the file'
          : `a quote opened on this line is not closed within ${this.maxLines} lines`;
    if (this.lenient) {
      out.push({ line: start.line, fields: this.literalFields(start.text!), warning: `${why}; its quotes were read literally` });
    } else {
      // The fields as read literally only serve to name the row's id in the report.
      out.push({ line: start.line, fields: this.literalFields(start.text!), problem: `${why} (a field that starts with " must end with " before the next delimiter; write a quote inside it as "")` });
    }
    return rest;
  }

  /** One line, each field unquoted if it is a proper quoted field closing on this line, else taken as it stands. */
  private literalFields(text: string): string[] {
    const d = this.delimiter;
    const fields: string[] = [];
    let i = 0;
    for (;;) {
      if (text.charCodeAt(i) === 34) {
        let value = '';
        let j = i + 1;
        let closed = false;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) break;
          value += text.slice(j, q);
          if (text.charCodeAt(q + 1) === 34) {
            value += '"';
            j = q + 2;
            continue;
          }
          closed = q + 1 === text.length || text[q + 1] === d;
          j = q + 1;
          break;
        }
        if (closed) {
          fields.push(value);
          if (j === text.length) return fields;
          i = j + 1;
          continue;
        }
      }
      const k = text.indexOf(d, i);
      if (k < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, k));
      i = k + 1;
    }
  }
}

export interface ReadRowsOptions {
  format?: RecordFormat;
  /** Column name given to each line of a plain-text file. */
  textColumn?: string;
  /** Longest line read, in bytes (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

/**
 * Streams the rows of a TSV, CSV, JSONL or plain-text file. Delimited files need a header row.
 * A row that cannot be read comes with `problem` set, so callers choose to skip or to fail; what
 * follows it is read as usual. Lines are LF or CRLF, UTF-8 (a BOM is dropped), at most
 * `maxLineBytes` long; a line that is not UTF-8, holds a NUL byte or is too long is such a row.
 */
export async function* readRows(path: string, options: ReadRowsOptions = {}): AsyncGenerator<Row> {
  const format = options.format ?? formatFromPath(path) ?? 'tsv';
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const lines = physicalLines(path, maxLineBytes);
  if (format === 'text') {
    const column = options.textColumn ?? 'text';
    for await (const batch of lines) {
      for (const { line, text, problem } of batch) {
        if (problem !== undefined) yield { line, values: { id: String(line) }, problem };
        else if (text.trim().length > 0) yield { line, values: { id: String(line), [column]: text } };
      }
    }
    return;
  }
  if (format === 'jsonl') {
    for await (const batch of lines) {
      for (const { line, text, problem } of batch) {
        if (problem !== undefined) {
          yield { line, values: {}, problem };
          continue;
        }
        if (text.trim().length === 0) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (err) {
          yield { line, values: {}, problem: `invalid JSON (${(err as Error).message})` };
          continue;
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          yield { line, values: {}, problem: 'expected a JSON object' };
          continue;
        }
        const values: Record<string, string> = {};
        for (const [k, v] of Object.entries(parsed)) {
          if (v !== null && v !== undefined) values[k] = typeof v === 'string' ? v : JSON.stringify(v);
        }
        yield { line, values };
      }
    }
    return;
  }
  const parser = new DelimitedParser(format === 'tsv' ? '\t' : ',', format === 'tsv', MAX_RECORD_LINES, maxLineBytes);
  let header: string[] | undefined;
  const rows = function* (records: RawRecord[]): Generator<Row> {
    for (const { line, fields, problem, warning } of records) {
      if (!header) {
        if (problem) throw invalidFile(path, line, `cannot read the header row: ${problem}`);
        header = fields.map((f) => f.replace(/^\uFEFF/, '').trim());
        continue;
      }
      const values: Record<string, string> = {};
      const n = Math.min(fields.length, header.length);
      for (let i = 0; i < n; i++) values[header[i]] = fields[i];
      if (problem) {
        yield { line, values, problem };
        continue;
      }
      if (fields.length !== header.length) {
        yield { line, values, problem: `expected ${header.length} fields (${header.join(', ')}), found ${fields.length}` };
        continue;
      }
      yield warning ? { line, values, warning } : { line, values };
    }
  };
  for await (const batch of lines) {
    const records: RawRecord[] = [];
    for (const item of batch) parser.feed(item, records);
    yield* rows(records);
  }
  const records: RawRecord[] = [];
  parser.end(records);
  yield* rows(records);
}
