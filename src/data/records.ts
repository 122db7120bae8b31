import { createReadStream } from 'node:fs';
import { extname } from 'node:path';

export type RecordFormat = 'tsv' | 'csv' | 'jsonl' | 'text';

/** One row of a data file, keyed by header column, with its 1-based line number. */
export interface Row {
  line: number;
  values: Record<string, string>;
  /** Set when the row could not be parsed; values are then empty. */
  problem?: string;
}

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

/**
 * Splits delimited text into records following RFC 4180 quoting (a field wrapped in double quotes
 * may hold the delimiter, newlines and "" for a quote). Streams: holds one record at a time.
 */
async function* delimitedRecords(
  chunks: AsyncIterable<string>,
  delimiter: string,
): AsyncGenerator<{ fields: string[]; line: number }> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quotedField = false;
  let line = 1;
  let recordLine = 1;
  let pendingQuote = false; // saw a quote inside a quoted field; decided by the next character
  const endField = () => {
    fields.push(field);
    field = '';
    quotedField = false;
  };
  for await (const chunk of chunks) {
    const out: { fields: string[]; line: number }[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (pendingQuote) {
        pendingQuote = false;
        if (c === '"') {
          field += '"';
          continue;
        }
        inQuotes = false;
      }
      if (inQuotes) {
        if (c === '"') pendingQuote = true;
        else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (c === '"' && field.length === 0 && !quotedField) {
        inQuotes = true;
        quotedField = true;
      } else if (c === delimiter) {
        endField();
      } else if (c === '\n') {
        endField();
        if (!(fields.length === 1 && fields[0] === '')) out.push({ fields, line: recordLine });
        fields = [];
        line++;
        recordLine = line;
      } else if (c !== '\r') {
        field += c;
      }
    }
    yield* out;
  }
  if (field.length > 0 || fields.length > 0 || quotedField) {
    endField();
    yield { fields, line: recordLine };
  }
}

async function* textLines(chunks: AsyncIterable<string>): AsyncGenerator<{ text: string; line: number }> {
  let rest = '';
  let line = 0;
  for await (const chunk of chunks) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) yield { text: p.replace(/\r$/, ''), line: ++line };
  }
  if (rest.length > 0) yield { text: rest.replace(/\r$/, ''), line: ++line };
}

function openText(path: string): AsyncIterable<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  return stream as AsyncIterable<string>;
}

export interface ReadRowsOptions {
  format?: RecordFormat;
  /** Column name given to each line of a plain-text file. */
  textColumn?: string;
}

/**
 * Streams the rows of a TSV, CSV, JSONL or plain-text file. Delimited files need a header row.
 * A row that cannot be parsed comes with `problem` set, so callers choose to skip or to fail.
 */
export async function* readRows(path: string, options: ReadRowsOptions = {}): AsyncGenerator<Row> {
  const format = options.format ?? formatFromPath(path) ?? 'tsv';
  if (format === 'text') {
    const column = options.textColumn ?? 'text';
    for await (const { text, line } of textLines(openText(path))) {
      if (text.trim().length > 0) yield { line, values: { id: String(line), [column]: text } };
    }
    return;
  }
  if (format === 'jsonl') {
    for await (const { text, line } of textLines(openText(path))) {
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
    return;
  }
  let header: string[] | undefined;
  for await (const { fields, line } of delimitedRecords(openText(path), format === 'tsv' ? '\t' : ',')) {
    if (!header) {
      header = fields.map((f) => f.replace(/^\uFEFF/, '').trim());
      continue;
    }
    if (fields.length !== header.length) {
      yield { line, values: {}, problem: `expected ${header.length} fields (${header.join(', ')}), found ${fields.length}` };
      continue;
    }
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = fields[i]));
    yield { line, values };
  }
}

