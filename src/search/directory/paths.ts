import { join } from 'node:path';

/** The files of a store directory. */
export const databasePath = (dir: string) => join(dir, 'doppel.sqlite');
export const indexPath = (dir: string) => join(dir, 'vectors.hnsw');
export const manifestPath = (dir: string) => join(dir, 'vectors.manifest.json');
