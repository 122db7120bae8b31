import { readQuestions } from '../data/questions.js';
import type { DuplicateIndex } from './stores.js';

export interface ImportReport {
  rows: number;
  added: number;
  /** Ids already stored with the same text: re-running an import adds only what is new. */
  present: number;
  /** Ids already stored with another text; skipped. */
  conflicts: number;
  invalid: number;
  seconds: number;
}

export interface ImportOptions {
  batchSize?: number;
  /** Report bad rows and go on; without it the first bad row stops the import. */
  onInvalid?: (line: number, problem: string) => void;
  /** Rows read leniently (a TSV quote taken literally). */
  onWarning?: (line: number, message: string) => void;
  onConflict?: (line: number, id: string) => void;
  onProgress?: (rowsRead: number) => void;
}

/**
 * Streams a questions file into the index in encoder-sized batches. Rows are validated as they
 * are read (readQuestions: id, text length, NUL), so a bad row is reported with its file, line and
 * id, skipped under `onInvalid`, and never reaches DuplicateIndex.add.
 */
export async function importQuestions(index: DuplicateIndex, file: string, options: ImportOptions = {}): Promise<ImportReport> {
  const batchSize = options.batchSize ?? 512;
  const started = performance.now();
  const report = { rows: 0, added: 0, present: 0, conflicts: 0, invalid: 0 };
  let batch: { id: string; text: string; category?: string }[] = [];
  const inBatch = new Set<string>();
  const flush = async () => {
    if (batch.length > 0) report.added += (await index.add(batch)).length;
    batch = [];
    inBatch.clear();
  };
  const onInvalid = options.onInvalid
    ? (line: number, problem: string) => {
        report.invalid++;
        options.onInvalid!(line, problem);
      }
    : undefined;
  for await (const q of readQuestions(file, { onInvalid, onWarning: options.onWarning })) {
    report.rows++;
    if ((await index.get(q.id))?.text === q.text) report.present++;
    else if (inBatch.has(q.id) || (await index.has(q.id))) {
      report.conflicts++;
      options.onConflict?.(q.line, q.id);
    } else {
      batch.push({ id: q.id, text: q.text, category: q.category });
      inBatch.add(q.id);
      if (batch.length >= batchSize) await flush();
    }
    options.onProgress?.(report.rows);
  }
  await flush();
  return { ...report, seconds: (performance.now() - started) / 1000 };
}

/**
 * Valid rows in a questions file (for progress bars), counted without holding them. With
 * `strict`, the first invalid row throws (file:line: problem (id)), before any work is done.
 */
export async function countQuestions(file: string, options: { strict?: boolean } = {}): Promise<number> {
  let n = 0;
  for await (const _ of readQuestions(file, { onInvalid: options.strict ? undefined : () => {} })) n++;
  return n;
}
