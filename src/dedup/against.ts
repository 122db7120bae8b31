import { readQuestions, type QuestionRecord } from '../data/questions.js';
import type { RecordFormat } from '../data/records.js';
import type { DuplicateIndex } from '../search/stores.js';
import type { DecisionChoice } from '../model/load.js';
import type { Hit } from '../search/backend.js';

export interface AgainstRow {
  record: QuestionRecord;
  /** The stored question of highest probability, a duplicate or not (undefined for an empty store). */
  match?: Hit;
}

/** Matches every question of a file against an existing store, in encoder-sized batches. */
export async function matchAgainstStore(
  index: DuplicateIndex,
  path: string,
  options: { decision?: DecisionChoice; format?: RecordFormat; strict: boolean; batchSize?: number; onInvalid?: (line: number, problem: string) => void },
  emit: (row: AgainstRow) => void | Promise<void>,
): Promise<{ questions: number; duplicates: number; seconds: number }> {
  const started = performance.now();
  let batch: QuestionRecord[] = [];
  let questions = 0;
  let duplicates = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    // As POST /v1/duplicates judges a text: hybrid search, the verdict, the same operating point.
    const hits = await index.searchMany(batch, { mode: 'hybrid', k: 1, decision: options.decision });
    for (let i = 0; i < batch.length; i++) {
      const match = hits[i][0];
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
