import { readQuestions, type QuestionRecord } from '../data/questions.js';
import type { RecordFormat } from '../data/records.js';
import type { DuplicateIndex } from '../search/stores.js';
import type { Hit } from '../search/backend.js';

export interface AgainstRow {
  record: QuestionRecord;
  /** The nearest stored question the model calls a duplicate, else the nearest (undefined for an empty store). */
  match?: Hit;
}

/** Matches every question of a file against an existing store, in encoder-sized batches. */
export async function matchAgainstStore(
  index: DuplicateIndex,
  path: string,
  options: { k: number; format?: RecordFormat; strict: boolean; batchSize?: number; onInvalid?: (line: number, problem: string) => void },
  emit: (row: AgainstRow) => void | Promise<void>,
): Promise<{ questions: number; duplicates: number; seconds: number }> {
  const started = performance.now();
  let batch: QuestionRecord[] = [];
  let questions = 0;
  let duplicates = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const hits = await index.searchMany(batch, { mode: 'dense', k: options.k });
    for (let i = 0; i < batch.length; i++) {
      // The verdict may call a lower-ranked neighbour a duplicate and not the first (lexical evidence, or an ensemble's blended ranking).
      const match = hits[i].find((h) => h.isDuplicate) ?? hits[i][0];
      if (match?.isDuplicate) duplicates++;
      await emit({ record: batch[i], match });
    }
    batch = [];
  };
  for await (const q of readQuestions(path, { format: options.format, onInvalid: options.strict ? undefined : (options.onInvalid ?? (() => {})) })) {
    questions++;
    batch.push(q);
    if (batch.length >= (options.batchSize ?? 512)) await flush();
  }
  await flush();
  return { questions, duplicates, seconds: (performance.now() - started) / 1000 };
}
