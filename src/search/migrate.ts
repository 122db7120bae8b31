import { DoppelError } from '../errors.js';
import type { Model } from '../model/load.js';
import { describeStore, resolveStore } from './stores.js';

export interface MigrateReport {
  questions: number;
  copied: number;
  /** Ids the target holds already (a resumed copy): skipped. */
  present: number;
  feedback: number;
  /** API keys copied (those the target lacked). */
  keys: number;
  seconds: number;
}

async function copyKeys(from: string, to: string): Promise<number> {
  const source = await resolveStore(from).openKeys(from, { readonly: true });
  try {
    const keys = await source.exportKeys();
    if (keys.length === 0) return 0;
    const target = await resolveStore(to).openKeys(to, { readonly: false });
    try {
      return await target.importKeys(keys);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

const BATCH = 500;

/**
 * Copies a store's questions (with their vectors, times and deletions) and feedback into another
 * store, directory or database either way, without re-encoding. Resumable: questions already in
 * the target are skipped, and the feedback copied so far is recorded in the target with it.
 */
export async function migrateStore(from: string, to: string, model: Model, onProgress?: (done: number, total: number) => void): Promise<MigrateReport> {
  const started = performance.now();
  const source = await resolveStore(from).openTransfer(from, model, 'source');
  try {
    const sourceModel = await source.modelId();
    if (sourceModel && sourceModel !== model.id) {
      throw new DoppelError('INVALID_INPUT', `${describeStore(from)} holds vectors of model ${sourceModel}, not ${model.id}: pass that model's directory with --model`);
    }
    const target = await resolveStore(to).openTransfer(to, model, 'target');
    try {
      const report = { questions: await source.count(), copied: 0, present: 0, feedback: 0, keys: 0 };
      let done = 0;
      for (let after = 0; ; ) {
        const batch = await source.rows(after, BATCH);
        if (batch.length === 0) break;
        after = batch[batch.length - 1].label;
        const foreign = batch.find((b) => b.row.modelId !== model.id);
        if (foreign) throw new DoppelError('STORE_ERROR', `question '${foreign.row.id}' has a vector of model ${foreign.row.modelId}: open ${describeStore(from)} for writing once to re-encode it`);
        const taken = await target.present(batch.map((b) => b.row.id));
        const fresh = batch.filter((b) => !taken.has(b.row.id)).map((b) => b.row);
        report.present += batch.length - fresh.length;
        if (fresh.length > 0) await target.write(fresh);
        report.copied += fresh.length;
        done += batch.length;
        onProgress?.(done, report.questions);
      }
      const key = `migrated_feedback_from:${describeStore(from)}`;
      const feedback = await source.feedback(Number((await target.meta(key)) ?? 0));
      for (let i = 0; i < feedback.length; i += BATCH) {
        const slice = feedback.slice(i, i + BATCH);
        await target.writeFeedback(slice, { key, value: String(slice[slice.length - 1].id) });
        report.feedback += slice.length;
      }
      // The keys too (hashes only): a copy without them would take writes without one.
      report.keys = await copyKeys(from, to);
      return { ...report, seconds: (performance.now() - started) / 1000 };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
