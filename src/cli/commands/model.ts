import { resolve } from 'node:path';
import { DoppelError } from '../../errors.js';
import type { Model } from '../../model/load.js';
import { describeStore, DuplicateIndex } from '../../search/stores.js';
import type { StoreModels } from '../../search/backend.js';
import { stageBars } from '../progress.js';

export interface ModelCommandContext {
  store: string;
  /** The model the store holds now (the one it records), loaded when first needed. */
  current: () => Promise<Model>;
  load: (dir: string) => Promise<Model>;
  log: (m: string) => void;
  /** A running server on the store: the switch happens there, without downtime. */
  server?: string;
  /** Its admin key (default: $DOPPEL_API_KEY). */
  key?: string;
}

interface ActivationReply {
  state: string;
  staged: number;
  total: number;
  to: string;
  error: string | null;
}

async function call<T>(ctx: ModelCommandContext, method: string, path: string, body?: object): Promise<T> {
  const key = ctx.key ?? process.env.DOPPEL_API_KEY;
  let res: Response;
  try {
    res = await fetch(new URL(path, ctx.server), { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body) });
  } catch (err) {
    throw new DoppelError('STORE_UNAVAILABLE', `cannot reach ${ctx.server}: ${(err as Error).message}`);
  }
  const answer = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new DoppelError(res.status === 409 ? 'CONFLICT' : res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'INVALID_INPUT', `${ctx.server}: ${answer.error?.message ?? `HTTP ${res.status}`}`);
  return answer;
}

/** Asks the server to activate, then follows its progress until the new model serves (or the attempt fails). */
async function onServer(ctx: ModelCommandContext, path: string, body?: object): Promise<void> {
  let status = await call<ActivationReply>(ctx, 'POST', path, body);
  const bar = stageBars('questions');
  while (status.state === 'encoding' || status.state === 'switching') {
    if (status.total > 0) bar(`encoding with ${status.to}`, status.staged, status.total);
    await new Promise((r) => setTimeout(r, 500));
    const { activation } = await call<{ activation: ActivationReply | null }>(ctx, 'GET', '/v1/model');
    if (!activation) throw new DoppelError('MODEL_ERROR', `${ctx.server} no longer reports the activation (it restarted?): it resumes there; see doppel model status`);
    status = activation;
  }
  if (status.state !== 'done') throw new DoppelError('MODEL_ERROR', `the activation failed: ${status.error}; the previous model keeps serving`);
  ctx.log(`${ctx.server} serves model ${status.to}`);
}

/** Without a server: the store is opened for writing here, staged, switched and closed. */
async function offline(ctx: ModelCommandContext, next: Model): Promise<void> {
  const index = await DuplicateIndex.open(ctx.store, { model: await ctx.current(), log: ctx.log }).catch((err: unknown) => {
    if (err instanceof DoppelError && err.code === 'STORE_LOCKED') throw new DoppelError('STORE_LOCKED', `${err.message}: a server holds the store; give --server <its url> (and an admin key) to switch it there without downtime`);
    throw err;
  });
  try {
    await index.stage(next, { onProgress: ((bar) => (done: number, total: number) => bar(`encoding with ${next.id}`, done, total))(stageBars('questions')) });
    await index.switchModel(next);
    ctx.log(`${describeStore(ctx.store)} now holds the vectors of model ${next.id} (${next.files.dir}); the previous model's are kept for doppel model rollback`);
  } finally {
    await index.close();
  }
}

/** `doppel model activate`: the store's questions encoded with another model, which then takes over. */
export async function activateCommand(ctx: ModelCommandContext, dir: string): Promise<void> {
  if (ctx.server) return onServer(ctx, '/v1/model/activate', { model: resolve(dir) });
  const next = await ctx.load(dir);
  try {
    await offline(ctx, next);
  } finally {
    next.dispose();
  }
}

/** `doppel model rollback`: the model the store had before its last switch, back into service. */
export async function rollbackCommand(ctx: ModelCommandContext): Promise<void> {
  if (ctx.server) return onServer(ctx, '/v1/model/rollback');
  const { previous } = await storeModels(ctx);
  if (!previous) throw new DoppelError('CONFLICT', `${describeStore(ctx.store)} records no previous model to return to`);
  if (!previous.dir) throw new DoppelError('CONFLICT', `${describeStore(ctx.store)} records the previous model ${previous.id} but not its directory: give it to doppel model activate`);
  return activateCommand(ctx, previous.dir);
}

async function storeModels(ctx: ModelCommandContext): Promise<StoreModels> {
  const index = await DuplicateIndex.open(ctx.store, { model: await ctx.current(), readonly: true });
  try {
    return await index.models();
  } finally {
    await index.close();
  }
}

/** `doppel model status`: which model encoded the store, the one before it, and an activation left unfinished. */
export async function statusCommand(ctx: ModelCommandContext, json: boolean): Promise<void> {
  const models = await storeModels(ctx);
  if (json) {
    process.stdout.write(JSON.stringify(models) + '\n');
    return;
  }
  const line = (m: { id: string; dir: string | null }) => `${m.id}${m.dir ? ` (${m.dir})` : ''}`;
  process.stdout.write(`current:    ${line(models.current)}\n`);
  if (models.previous) process.stdout.write(`previous:   ${line(models.previous)}\n`);
  if (models.activating) process.stdout.write(`activating: ${line(models.activating)} (unfinished: the next start of a server on this store resumes it)\n`);
}
