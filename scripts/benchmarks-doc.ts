/**
 * docs/benchmarks.md's figure tables, rendered from bench-results.json (written by `npm run bench`),
 * so that every number they show comes from a script run. Between the markers
 * `<!-- figures:NAME -->` and `<!-- /figures -->` the document holds the rendering of block NAME;
 * the prose around the blocks is written by hand.
 *
 *   node dist/scripts/benchmarks-doc.js           # rewrite the blocks from bench-results.json
 *   node dist/scripts/benchmarks-doc.js --check   # exit 1 if the document is stale (a test does this too)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './bench/common.js';

/** A figure as scripts/bench/common.ts reports it (with its command and date). */
export type Figure = BenchResult & { command?: string; date?: string };

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** The document that holds the figure blocks. */
export const DOC = join(ROOT, 'docs/benchmarks.md');
export const RESULTS = join(ROOT, 'bench-results.json');

const num = (x: unknown, digits = 3): string => {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toFixed(digits)));
};
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

/** What a figure was compared with in the same run, in words. */
function comparison(f: Figure): string {
  const parts: string[] = [];
  const fts5 = f.fts5 as { p50: number; p99: number } | undefined;
  if (fts5) {
    parts.push(`FTS5 p99 ${num(fts5.p99)} / p50 ${num(fts5.p50)} ms (${num(f.speedupP99OverFts5, 1)}x / ${num(f.speedupP50OverFts5, 1)}x faster)`);
    parts.push(`index built in ${num(f.buildSeconds)} s, about ${num(f.memoryMb)} MB`);
  }
  const pytorch = f.pytorch as { pairsPerSecond?: number; questionsPerSecond?: number; threads?: number } | string | undefined;
  if (typeof f.ratioToPyTorch === 'number' && typeof pytorch === 'object') {
    parts.push(`${num(f.ratioToPyTorch, 2)}x PyTorch ${num(pytorch.pairsPerSecond ?? pytorch.questionsPerSecond)} (${pytorch.threads} thread${pytorch.threads === 1 ? '' : 's'})`);
  } else if (typeof pytorch === 'string') parts.push(`PyTorch ${pytorch}`);
  const csv = f.csvParse as { rowsPerSecond?: number; rowsRead: number; skipped?: number } | undefined;
  if (csv?.rowsPerSecond !== undefined) parts.push(`${num(f.ratioToCsvParse, 2)}x csv-parse ${num(csv.rowsPerSecond)} rows/s`);
  else if (csv) parts.push(`csv-parse keeps ${csv.rowsRead} rows${csv.skipped ? ` (${csv.skipped} record skipped as an error)` : ''}`);
  if (typeof f.speedupOverStock === 'number') parts.push(`${num(f.speedupOverStock, 1)}x stock tfjs kernels (${num(f.stockKernels)})`);
  if (typeof f.ratioToTfjs === 'number') parts.push(`${num(f.ratioToTfjs, 1)}x tfjs wasm`);
  if (typeof f.speedupP99 === 'number') parts.push(`filtered HNSW p99 ${num(f.filteredGraphP99)} ms (${num(f.speedupP99, 1)}x)`);
  if (typeof f.p50 === 'number') parts.push(`p50 ${num(f.p50)} ${f.unit === 'ms' ? 'ms' : ''}`.trim());
  if (typeof f.requestsPerSecond === 'number') parts.push(`${num(f.requestsPerSecond)} req/s, ${f.errors ?? 0} errors${f.non2xx ? `, ${num(f.non2xx)} non-2xx (503: shed)` : ''}`);
  // Beside 503s the rate counts refusals too, so the share would flatter.
  if (typeof f.shareOfHealthz === 'number' && !f.non2xx) parts.push(`${Math.round(f.shareOfHealthz * 100)} % of /healthz`);
  const cpu = f.cpuMsPerRequest as { mainThreads: number; allThreads: number } | undefined;
  if (cpu) parts.push(`CPU per request ${num(cpu.allThreads)} ms (main threads ${num(cpu.mainThreads)})`);
  const stages = f.stageMsPerRequest as Record<string, number> | undefined;
  if (stages && Object.keys(stages).length > 0) parts.push(`stages, ms a request: ${Object.entries(stages).map(([stage, ms]) => `${stage} ${num(ms)}`).join(', ')}`);
  const evaluation = f.evaluation as { precision: number; recall: number; f1: number } | undefined;
  if (evaluation) parts.push(`P ${num(evaluation.precision)} R ${num(evaluation.recall)} F1 ${num(evaluation.f1)} on held-out pairs${f.linkedBy === 'verdict' ? ', links confirmed by the verdict stage' : ''}`);
  const alone = f.energyAlone as { evaluation: { f1: number }; questionsPerSecond: number; peakMemoryMb: number } | undefined;
  if (alone) parts.push(`energy alone: F1 ${num(alone.evaluation.f1)}, ${num(alone.questionsPerSecond)} questions/s, peak ${num(alone.peakMemoryMb)} MB`);
  if (typeof f.largestCluster === 'number') parts.push(`largest group ${num(f.largestCluster)}`);
  if (typeof f.peakMemoryMb === 'number') parts.push(`peak ${num(f.peakMemoryMb)} MB`);
  if (typeof f.encodeShare === 'number') parts.push(`encoding ${Math.round(f.encodeShare * 100)} % of the time`);
  if (typeof f.requests === 'number') {
    const growth = typeof f.metricsGrowthBytes === 'number' ? `; /metrics grew ${num(f.metricsGrowthBytes)} bytes` : '';
    const leaks = typeof f.leaks === 'number' ? `; ${f.leaks} answers naming the database` : '';
    parts.push(`${num(f.requests)} requests; all ${num(f.unkeyedWrites)} writes without the key refused${growth}${leaks}`);
  }
  if (typeof f.acknowledgedAfterSigterm === 'number') {
    parts.push(`${num(f.acknowledged)} writes acknowledged, ${f.acknowledgedAfterSigterm} of them after SIGTERM (the last ${f.latestAckAfterSigtermMs} ms after it); ${f.lost} lost; every process gone ${num(f.exitMs)} ms after SIGTERM`);
  }
  if (typeof f.kills === 'number') {
    parts.push(`${f.kills} kills (${f.killsDuringSave} during a graph save); ${num(f.acknowledgedInserts)} inserts and ${num(f.acknowledgedDeletes)} deletes acknowledged; ${f.deletedReturned} deleted ones returned; ${f.temporariesLeft} temporary files left`);
  }
  const validation = f.validation as { precision: number | null; recall: number | null } | undefined;
  if (typeof f.recall === 'number' && validation) {
    parts.push(`recall ${num(f.recall)} at p >= ${num(f.config.threshold, 3)}; on validation precision ${num(validation.precision)}, recall ${num(validation.recall)}`);
  }
  const bins = f.bins as { from: number; pairs: number; predicted: number; observed: number }[] | undefined;
  if (bins) parts.push(`predicted -> observed: ${bins.map((b) => `${num(b.predicted, 2)} -> ${num(b.observed, 2)} (${num(b.pairs)})`).join(', ')}`);
  const search = f.searchMs as { p50: number; p99: number } | undefined;
  if (search) parts.push(`search alone p50 ${num(search.p50)} / p99 ${num(search.p99)} ms`);
  return parts.join('; ');
}

/** The heading of each bench's table in the benchmarks block (a bench not named here goes by its name). */
const BENCH_TITLES: Record<string, string> = {
  reader: 'Reading files',
  robustness: 'Robustness',
  train: 'Training',
  encode: 'Encoding',
  index: 'Index: build, disk, search',
  category: 'Searching one category',
  typos: 'Typo tolerance',
  quality: 'The verdict: calibration, operating points and cost',
  service: 'HTTP service',
  dedup: 'Batch de-duplication',
  scale: 'A million questions',
};

const BLOCKS: Record<string, (figures: Figure[]) => string> = {
  quality: (figures) =>
    table(
      ['pairs (no stage of the model was fit on them)', 'decided by', 'pairs', 'accuracy', 'F1', 'ROC-AUC', 'AP'],
      figures
        .filter((f) => f.bench === 'quality' && f.unit === 'ROC-AUC')
        .map((f) => [String(f.config.data), String(f.config.stage ?? 'energy alone'), num(f.config.pairs), num(f.accuracy), num(f.f1), `**${num(f.value)}**`, num(f.averagePrecision)]),
    ),
  retrieval: (figures) =>
    table(
      ['mode', 'nDCG@10', 'MRR@10', 'recall@1', 'recall@10'],
      figures.filter((f) => f.bench === 'retrieval').map((f) => [String(f.config.mode), `**${num(f.value)}**`, num(f['mrr@10']), num(f['recall@1']), num(f['recall@10'])]),
    ),
  reference: (figures) =>
    table(
      ['encoder, on the same test pairs', 'test ROC-AUC', 'test accuracy', 'its own validation ROC-AUC', 'difference'],
      figures
        .filter((f) => f.bench === 'reference')
        .map((f) => [f.metric.replace(/, (same )?test pairs: ROC-AUC$/, ''), `**${num(f.value)}**`, num(f.accuracy), num(f.validationRocAuc), typeof f.minusReference === 'number' ? num(f.minusReference, 4) : '']),
    ),
  benchmarks: (figures) => {
    // One table per bench, in the order the results list them; the quality, reference, retrieval
    // and postgres blocks show their own figures, and 'baseline' rows (an older commit) are not shown.
    const shown = figures.filter((f) => !['quality', 'reference', 'retrieval', 'postgres', 'baseline'].includes(f.bench) || (f.bench === 'quality' && f.unit !== 'ROC-AUC'));
    const benches = [...new Set(shown.map((f) => f.bench))];
    return benches
      .map((bench) =>
        [
          `### ${BENCH_TITLES[bench] ?? bench}`,
          '',
          `\`npm run bench -- ${bench}\``,
          '',
          table(
            ['figure', 'value', 'target', 'measured beside it in the same run'],
            shown.filter((f) => f.bench === bench).map((f) => [f.metric, `**${num(f.value)} ${f.unit}**`, f.target ?? '', comparison(f)]),
          ),
        ].join('\n'),
      )
      .join('\n\n');
  },
  postgres: (figures) => {
    const both = figures.filter((f) => f.bench === 'postgres');
    // The directory store's figures, measured beside PostgreSQL's in the same run.
    const dir = (f: Figure) => (f.directory ?? {}) as Record<string, number>;
    const signed = (x: unknown) => (typeof x === 'number' && x > 0 ? '+' : '') + num(x);
    return [
      table(
        ['mode', 'questions', 'queries', 'nDCG@10 directory', 'nDCG@10 PostgreSQL', 'difference', 'MRR@10 directory', 'MRR@10 PostgreSQL'],
        both
          .filter((f) => f.unit === 'nDCG@10')
          .map((f) => [String(f.config.mode), num(f.config.questions), num(f.config.queries), num(dir(f)['ndcg@10']), `**${num(f.value)}**`, signed(f.difference), num(dir(f)['mrr@10']), num(f['mrr@10'])]),
      ),
      '',
      table(
        ['search, encode + top-10 in process', 'questions', 'held-out queries', 'directory p50 / p99 ms', 'PGlite (WebAssembly) p50 / p99 ms', 'PGlite / directory, p50 / p99'],
        both
          .filter((f) => f.unit === 'ms')
          .map((f) => {
            const ratio = f.ratioToDirectory as { p50: number; p99: number };
            return [String(f.config.mode), num(f.config.questions), num(f.config.queries), `${num(dir(f).p50)} / ${num(dir(f).p99)}`, `${num(f.p50)} / **${num(f.value)}**`, `${num(ratio.p50, 1)}x / ${num(ratio.p99, 1)}x`];
          }),
      ),
    ].join('\n');
  },
};

/** `doc` with every figures block rendered from `figures`. */
export function renderDoc(doc: string, figures: Figure[]): string {
  return doc.replace(/<!-- figures:(\w+) -->[\s\S]*?<!-- \/figures -->/g, (_all, name: string) => {
    const render = BLOCKS[name];
    if (!render) throw new Error(`docs/benchmarks.md: unknown figures block '${name}'`);
    return `<!-- figures:${name} -->\n${render(figures)}\n<!-- /figures -->`;
  });
}

export function readFigures(): Figure[] {
  return (JSON.parse(readFileSync(RESULTS, 'utf8')) as { results: Figure[] }).results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const doc = readFileSync(DOC, 'utf8');
  const rendered = renderDoc(doc, readFigures());
  if (process.argv.includes('--check')) {
    if (rendered !== doc) {
      process.stderr.write('docs/benchmarks.md figures differ from bench-results.json: run node dist/scripts/benchmarks-doc.js\n');
      process.exit(1);
    }
  } else {
    writeFileSync(DOC, rendered);
    process.stderr.write('docs/benchmarks.md figures rendered from bench-results.json\n');
  }
}
