import { DoppelError, invalidFile } from '../errors.js';
import { nameProblem, textProblem } from '../text/validate.js';
import { formatFromPath, type RecordFormat, readRows } from './records.js';

/** A question read from a file: id, text, optional category, and the other columns. */
export interface QuestionRecord {
  line: number;
  id: string;
  text: string;
  category?: string;
  extra: Record<string, string>;
}

export interface ReadQuestionsOptions {
  format?: RecordFormat;
  /** Report bad rows here instead of failing on the first. */
  onInvalid?: (line: number, problem: string) => void;
  /** Rows read leniently (a TSV field whose quote does not close is read literally). */
  onWarning?: (line: number, message: string) => void;
}

/**
 * Streams questions from TSV/CSV with a header `id,text[,category]`, JSONL with those keys, or
 * plain text, one question a line (ids are line numbers). Every row is checked as the API checks
 * a question (a non-empty id; a text of 1 to MAX_TEXT_LENGTH characters after trimming, with no
 * NUL), so an import never fails later on a row the reader let through. A bad row is reported as
 * `file:line: problem (id 'x')`: to `onInvalid` when given, else as the error that stops the read.
 */
export async function* readQuestions(path: string, options: ReadQuestionsOptions = {}): AsyncGenerator<QuestionRecord> {
  const format = options.format ?? formatFromPath(path) ?? 'tsv';
  let checked = false;
  try {
    for await (const { line, values, problem, warning } of readRows(path, { format })) {
      if (!checked && !problem) {
        const missing = ['id', 'text'].filter((c) => !(c in values));
        if (missing.length > 0 && format !== 'jsonl') throw invalidFile(path, line, `missing column(s) ${missing.join(', ')} (expected a header id,text[,category])`);
        checked = true;
      }
      const text = (values.text ?? '').trim();
      const id = (values.id ?? '').trim();
      const category = values.category?.trim() || undefined;
      const issue = problem ?? (!id ? 'missing id' : (nameProblem(id, 'id') ?? (category && nameProblem(category, 'category')) ?? textProblem(text)));
      if (issue) {
        const message = id ? `${issue} (id '${id}')` : issue;
        if (!options.onInvalid) throw invalidFile(path, line, message);
        options.onInvalid(line, message);
        continue;
      }
      if (warning) options.onWarning?.(line, `${warning} (id '${id}')`);
      const { id: _id, text: _text, category: _category, ...extra } = values;
      yield { line, id, text, category, extra };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DoppelError('INVALID_INPUT', `no such file: ${path}`);
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new DoppelError('INVALID_INPUT', `${path} is a directory, not a file`);
    throw err;
  }
}
