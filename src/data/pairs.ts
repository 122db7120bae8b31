import { DoppelError, invalidFile } from '../errors.js';
import { readRows, type RecordFormat } from './records.js';

/** A labelled question pair; label 1 means duplicate (genuine), 0 means not (impostor). */
export interface Pair {
  q1: string;
  q2: string;
  label: 0 | 1;
}

export interface ReadPairsOptions {
  format?: RecordFormat;
  /** Count and skip malformed rows instead of failing on the first. */
  skipInvalid?: boolean;
}

export interface PairFile {
  pairs: Pair[];
  skipped: number;
}

const LABELS: Record<string, 0 | 1> = { '0': 0, '1': 1, '0.0': 0, '1.0': 1, false: 0, true: 1 };
const REQUIRED = ['question1', 'question2', 'is_duplicate'];

/**
 * Reads question pairs in the Quora layout (columns question1, question2, is_duplicate; other
 * columns ignored) from TSV, CSV or JSONL.
 */
export async function readPairs(path: string, options: ReadPairsOptions = {}): Promise<PairFile> {
  const pairs: Pair[] = [];
  let skipped = 0;
  let checkedHeader = false;
  try {
    for await (const { line, values, problem: parseProblem } of readRows(path, { format: options.format })) {
      if (!checkedHeader && !parseProblem) {
        const missing = REQUIRED.filter((c) => !(c in values));
        if (missing.length > 0) throw invalidFile(path, line, `missing column(s) ${missing.join(', ')}`);
        checkedHeader = true;
      }
      const q1 = (values.question1 ?? '').trim();
      const q2 = (values.question2 ?? '').trim();
      const label = LABELS[(values.is_duplicate ?? '').trim().toLowerCase()];
      const problem =
        parseProblem ??
        (q1.length === 0 || q2.length === 0
          ? 'empty question'
          : label === undefined
            ? `is_duplicate must be 0 or 1, found '${values.is_duplicate}'`
            : undefined);
      if (problem) {
        if (!options.skipInvalid) throw invalidFile(path, line, `${problem} (--skip-invalid skips such rows)`);
        skipped++;
        continue;
      }
      pairs.push({ q1, q2, label: label! });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DoppelError('INVALID_INPUT', `no such file: ${path}`);
    throw err;
  }
  if (pairs.length === 0) throw new DoppelError('INVALID_FILE', `${path}: no valid pairs`);
  return { pairs, skipped };
}
