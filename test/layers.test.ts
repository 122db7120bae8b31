import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './helpers.js';

/**
 * The layering of docs/architecture.md, checked on the compiled code (what runs): a folder may
 * import its own files and the folders below it. `training` sits beside the top and may import
 * anything; only `cli` and the library entry import it.
 */
const ORDER: string[][] = [['errors', 'util'], ['text'], ['data'], ['encoder'], ['verdict'], ['model'], ['evaluation'], ['search'], ['dedup'], ['service'], ['cli', 'client']];
const rank = new Map(ORDER.flatMap((names, i) => names.map((n) => [n, i] as const)));
const SRC = join(ROOT, 'dist/src');

/** The compiled files of today's sources (a build directory may still hold the output of moved files). */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return files(path);
    return e.name.endsWith('.js') && existsSync(join(ROOT, relative(join(ROOT, 'dist'), path)).replace(/\.js$/, '.ts')) ? [path] : [];
  });
}

/** Every module a compiled file loads: static imports, re-exports and dynamic import() of a literal. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
    found.push(m[1] ?? m[2] ?? m[3]);
  }
  return found;
}

/** `search/directory/store.js` -> `search`; the entry `index.js` -> `index`. */
const folder = (file: string) => relative(SRC, file).split('/')[0].replace(/\.js$/, '');

const edges = files(SRC).flatMap((file) =>
  specifiers(readFileSync(file, 'utf8')).map((spec) => ({
    from: relative(SRC, file),
    to: spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec,
    local: spec.startsWith('.'),
  })),
);

describe('layers', () => {
  test('the compiled code has the folders the layering names, and imports between them', () => {
    const folders = new Set(files(SRC).map(folder));
    for (const f of folders) assert.ok(rank.has(f) || f === 'training' || f === 'index', `src/${f} is not placed in the layering`);
    assert.ok(edges.filter((e) => e.local).length > 300, 'the import scan found the imports');
  });

  test('no import runs from a lower layer to a higher one', () => {
    const upward = edges
      .filter((e) => e.local)
      .filter(({ from, to }) => {
        const [a, b] = [folder(join(SRC, from)), folder(join(SRC, to))];
        if (a === b || a === 'index') return false;
        if (b === 'training') return a !== 'cli';
        if (a === 'training') return false;
        const [ra, rb] = [rank.get(a)!, rank.get(b)!];
        return rb > ra || (rb === ra && !(a === 'util' && b === 'errors'));
      })
      .map(({ from, to }) => `${from} -> ${to}`);
    assert.deepEqual(upward, []);
  });

  test('each storage backend keeps its driver: pg in search/postgres, SQLite and hnswlib in search/directory', () => {
    const home: Record<string, string> = { pg: 'search/postgres/', 'better-sqlite3': 'search/directory/', 'hnswlib-node': 'search/directory/' };
    const strays = edges.filter((e) => !e.local && e.to in home && !e.from.startsWith(home[e.to])).map((e) => `${e.from} imports ${e.to}`);
    assert.deepEqual(strays, []);
    for (const driver of Object.keys(home)) assert.ok(edges.some((e) => e.to === driver), `${driver} is imported somewhere`);
  });

  test('a --store location is told apart in one place', () => {
    const calls = files(SRC).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bisPostgresUrl\(/g)].map(() => relative(SRC, file)));
    assert.deepEqual(calls, ['search/stores.js']);
  });
});
