import { DirectoryIndex } from './duplicate-index.js';
import type { DuplicateIndex as Index, OpenOptions } from './index-api.js';

/**
 * Opens the store at `location`: a directory (created if missing; SQLite + an hnswlib graph,
 * the default).
 */
export async function openIndex(location: string, options: OpenOptions): Promise<Index> {
  return DirectoryIndex.open(location, options);
}

/** The index type, and `DuplicateIndex.open(location, options)` as the library has always offered it. */
export type DuplicateIndex = Index;
export const DuplicateIndex = { open: openIndex };
