import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './helpers.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Runs `doppel serve` in a child process on a free port and waits until it answers. */
export async function startServe(store: string, args: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--store', store, '--port', '0', '--rate-limit', '0', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /serving \d+ questions on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`doppel serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, exited };
}

export async function postJson(url: string, path: string, body: unknown, method = 'POST'): Promise<{ status: number; json: any }> {
  const res = await fetch(new URL(path, url), { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Ids of a dense search for `text` through the HTTP API. */
export async function denseIds(url: string, text: string, k: number): Promise<string[]> {
  const r = await postJson(url, '/v1/duplicates', { text, mode: 'dense', k });
  if (r.status !== 200) throw new Error(`search answered ${r.status}: ${JSON.stringify(r.json)}`);
  return (r.json.matches as { id: string }[]).map((m) => m.id);
}
