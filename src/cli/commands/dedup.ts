import { readPairs } from '../../data/pairs.js';
import { RowWriter } from '../../data/row-writer.js';
import { DoppelError } from '../../errors.js';
import { type Clustering } from '../../dedup/clustering.js';
import { matchAgainstStore } from '../../dedup/against.js';
import { dedupFile } from '../../dedup/dedup.js';
import { DuplicateIndex } from '../../search/stores.js';
import type { Model } from '../../model/load.js';
import type { OperatingPointName } from '../../verdict/operating-points.js';
import { stageBars } from '../progress.js';

export interface DedupArgs {
  out?: string;
  format?: string;
  threshold: string;
  k: number;
  clustering: Clustering;
  minClusterSize: number;
  against?: string;
  /** With --against: which matches are duplicates. */
  operatingPoint: OperatingPointName;
  evalPairs?: string;
  strict: boolean;
  force: boolean;
  json: boolean;
}

const AGAINST_COLUMNS = ['id', 'text', 'match_id', 'match_text', 'energy', 'probability', 'is_duplicate'];
const CLUSTER_COLUMNS = ['cluster_id', 'id', 'text', 'representative_id', 'energy_to_representative'];

function parseThreshold(value: string): number | undefined {
  if (value === 'auto') return undefined;
  const t = Number(value);
  if (!Number.isFinite(t) || t < 0) throw new DoppelError('INVALID_INPUT', `--threshold must be 'auto' or a non-negative energy, got '${value}'`);
  return t;
}

/** Clusters the file (or matches it against a store), writing rows as they come; returns the summary. */
async function runDedup(model: Model, input: string, args: DedupArgs, log: (m: string) => void, open: (columns: string[]) => RowWriter): Promise<object> {
  const onInvalid = (line: number, problem: string) => log(`${input}:${line}: ${problem} (skipped; --strict stops instead)`);
  if (args.against) {
    const index = await DuplicateIndex.open(args.against, { model, readonly: true, log });
    try {
      const decision = { operatingPoint: args.operatingPoint };
      const r = await matchAgainstStore(index, input, { decision, strict: args.strict, onInvalid }, async ({ record, match }) => {
        await open([...AGAINST_COLUMNS, ...Object.keys(record.extra)]).row({
          id: record.id,
          text: record.text,
          match_id: match?.id,
          match_text: match?.text,
          energy: match?.energy,
          probability: match?.probability,
          is_duplicate: match?.isDuplicate ?? false,
          ...record.extra,
        });
      });
      return { ...r, questionsPerSecond: r.questions / r.seconds, store: args.against, decision: model.decision(decision) };
    } finally {
      await index.close();
    }
  }
  const bars = stageBars('questions');
  return dedupFile(
    input,
    {
      model,
      threshold: parseThreshold(args.threshold),
      k: args.k,
      clustering: args.clustering,
      minClusterSize: args.minClusterSize,
      strict: args.strict,
      evalPairs: args.evalPairs ? (await readPairs(args.evalPairs)).pairs : undefined,
      onInvalid,
      onProgress: (stage, done, total) => {
        if (total === undefined) return void process.stderr.write(`\r${stage}: ${done} questions read\x1b[K`);
        bars(stage, done, total);
      },
    },
    async ({ clusterId, record, representativeId, energyToRepresentative }) => {
      await open([...CLUSTER_COLUMNS, ...Object.keys(record.extra)]).row({
        cluster_id: clusterId,
        id: record.id,
        text: record.text,
        representative_id: representativeId,
        energy_to_representative: Number(energyToRepresentative.toFixed(6)),
        ...record.extra,
      });
    },
  );
}

/**
 * `doppel dedup`. The --out path is checked before any work (directory exists and is writable;
 * an existing file needs --force), and the file appears whole or not at all: rows go to a
 * temporary beside it that is renamed into place at the end and removed on failure.
 */
export async function dedupCommand(model: Model, input: string, args: DedupArgs, log: (m: string) => void): Promise<void> {
  if (args.json && !args.out) throw new DoppelError('INVALID_INPUT', '--json prints the summary on stdout: give the rows a file with --out');
  const format = RowWriter.formatFor(args.out, args.format);
  if (args.out) RowWriter.assertWritable(args.out, args.force); // before any work is done
  let writer: RowWriter | undefined;
  const open = (columns: string[]) => (writer ??= new RowWriter(columns, format, args.out, args.force));
  let summary: object;
  try {
    summary = await runDedup(model, input, args, log, open);
    await open(args.against ? AGAINST_COLUMNS : CLUSTER_COLUMNS).close();
  } catch (err) {
    await writer?.abort(); // the old --out file stays as it was
    throw err;
  }
  if (args.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else for (const [k, v] of Object.entries(summary)) log(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}
