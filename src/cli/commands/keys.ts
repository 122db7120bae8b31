import { DoppelError } from '../../errors.js';
import type { ApiKeyRecord, KeyScope } from '../../search/api-keys.js';
import { resolveStore } from '../../search/stores.js';
import { newKey } from '../../service/auth.js';
import { checkOrigin } from '../../service/cors.js';
import { nameProblem } from '../../text/validate.js';

export interface KeyCreateOptions {
  store: string;
  scope: KeyScope;
  origin?: string;
  rate?: number;
  name?: string;
  json: boolean;
}

const describe = (k: ApiKeyRecord) =>
  [k.id, k.name, k.scope, k.origin ? `origin ${k.origin}` : 'any origin', k.rate !== null ? `${k.rate}/s` : 'no own rate', k.revokedAt ? `revoked ${k.revokedAt}` : `created ${k.createdAt}`].join('  ');

/** `doppel keys create`: the key is printed once and never kept (the store keeps its hash). */
export async function keysCreateCommand(opts: KeyCreateOptions): Promise<void> {
  const name = (opts.name ?? `${opts.scope}-key`).trim();
  const problem = nameProblem(name, 'id');
  if (problem) throw new DoppelError('INVALID_INPUT', `--name: ${problem.replace(/^id /, '')}`);
  if (opts.rate !== undefined && !(opts.rate > 0)) throw new DoppelError('INVALID_INPUT', '--rate must be a positive number of requests a second');
  const origin = opts.origin === undefined ? null : checkOrigin(opts.origin);
  const made = newKey(opts.scope);
  const keys = await resolveStore(opts.store).openKeys(opts.store, { readonly: false });
  try {
    const record = await keys.create({ id: made.id, hash: made.hash, name, scope: opts.scope, origin, rate: opts.rate ?? null });
    if (opts.json) process.stdout.write(JSON.stringify({ ...record, key: made.key }) + '\n');
    else process.stdout.write(`${made.key}\n${describe(record)}\nkeep the key now: it is not stored and cannot be shown again\n`);
  } finally {
    await keys.close();
  }
}

export async function keysListCommand(opts: { store: string; json: boolean }): Promise<void> {
  const keys = await resolveStore(opts.store).openKeys(opts.store, { readonly: true });
  try {
    const all = await keys.list();
    if (opts.json) process.stdout.write(JSON.stringify(all) + '\n');
    else process.stdout.write(all.length === 0 ? 'no keys\n' : all.map(describe).join('\n') + '\n');
  } finally {
    await keys.close();
  }
}

export async function keysRevokeCommand(idOrName: string, opts: { store: string }): Promise<void> {
  const keys = await resolveStore(opts.store).openKeys(opts.store, { readonly: false });
  try {
    const record = await keys.revoke(idOrName);
    process.stdout.write(`revoked ${describe(record)}\n`);
  } finally {
    await keys.close();
  }
}
