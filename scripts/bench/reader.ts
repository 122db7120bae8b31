/**
 * Doppel's delimited-file reader against csv-parse (the well-kept npm parser) on the same files,
 * in one process: throughput on a large TSV and CSV of real questions, and what each makes of an
 * unclosed quote (the failure that merged a whole file into one question before). This is the
 * measurement behind keeping Doppel's own reader.
 */
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { formatRow } from '../../src/data/delimited.js';
import { readRows } from '../../src/data/records.js';
import { realQuestions, report, round } from './common.js';

const ROWS = 600_000;
const dir = mkdtempSync(join(tmpdir(), 'doppel-bench-reader-'));

async function ours(path: string): Promise<{ rows: number; problems: number }> {
  let rows = 0;
  let problems = 0;
  for await (const r of readRows(path)) r.problem ? problems++ : rows++;
  return { rows, problems };
}

async function csvParse(path: string, delimiter: string): Promise<{ rows: number; problems: number }> {
  let rows = 0;
  let problems = 0;
  // The options a careful user would pick for messy input: skip bad records and report them.
  const parser = createReadStream(path).pipe(parse({ delimiter, columns: true, skip_records_with_error: true, relax_column_count: false, bom: true }));
  parser.on('skip', () => problems++);
  for await (const _ of parser) rows++;
  return { rows, problems };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - started) / 1000 };
}

try {
  const { texts, dataset } = await realQuestions();
  for (const [format, delimiter] of [['tsv', '\t'], ['csv', ',']] as const) {
    const path = join(dir, `questions.${format}`);
    const lines = ['id' + delimiter + 'text'];
    for (let i = 0; i < ROWS; i++) lines.push(formatRow([`q${i}`, texts[i % texts.length]], delimiter));
    writeFileSync(path, lines.join('\n') + '\n');
    await ours(path); // warm up both
    await csvParse(path, delimiter);
    const a = await timed(() => ours(path));
    const b = await timed(() => csvParse(path, delimiter));
    report({
      bench: 'reader',
      metric: `read a ${format.toUpperCase()} of real questions, Doppel's reader`,
      value: round(ROWS / a.seconds, 0),
      unit: 'rows/s',
      config: { rows: ROWS, megabytes: round(statSync(path).size / 1e6, 1), dataset },
      csvParse: { rowsPerSecond: round(ROWS / b.seconds, 0), rowsRead: b.result.rows },
      ratioToCsvParse: round(b.seconds / a.seconds, 2),
    });
  }
  // Three questions, the first with an opening quote that never closes.
  const broken = join(dir, 'broken.tsv');
  writeFileSync(broken, 'id\ttext\n1\t"An unclosed quote here\n2\tA second question?\n3\tA third question?\n');
  const a = await ours(broken);
  const b = await csvParse(broken, '\t').catch(() => ({ rows: 0, problems: 1 }));
  report({
    bench: 'reader',
    metric: "rows kept from a 3-row TSV with an unclosed quote, Doppel's reader",
    value: a.rows,
    unit: 'rows',
    target: '3 (the quote read literally, with a warning)',
    config: { file: 'id, text; row 1 opens a quote that never closes' },
    csvParse: { rowsRead: b.rows, skipped: b.problems },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
