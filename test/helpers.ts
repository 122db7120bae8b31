import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SAMPLE_PAIRS = join(ROOT, 'data/sample/pairs.tsv');
export const SAMPLE_QUESTIONS = join(ROOT, 'data/sample/questions.tsv');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/** A fresh temporary directory, removed when `cleanup` (a test's or suite's `after`) runs. */
export function tempDir(cleanup: (fn: () => void) => void, prefix = 'doppel-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4, what = 'values'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`${what}[${i}]: ${actual[i]} differs from ${expected[i]} by more than ${tol}`);
    }
  }
}
