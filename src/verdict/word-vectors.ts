import type { Tokenizer } from '../text/encoder-tokenizer.js';
import { dot } from '../util/dot.js';

/** A word's vector, or undefined for a word the table has no row for. */
export type WordVectors = (word: string) => Float64Array | undefined;

/**
 * Word vectors from the encoder's own embedding table: a word is the mean of its word pieces'
 * rows, L2-normalised. Cached per word.
 */
export function embeddingWordVectors(embedding: { shape: number[]; values: Float32Array }, tokenizer: Tokenizer): WordVectors {
  const dim = embedding.shape[1];
  // [UNK] is every unknown word at once (any script the vocabulary lacks): it aligns nothing.
  const unknown = tokenizer.tokens().indexOf('[UNK]');
  const cache = new Map<string, Float64Array | undefined>();
  return (word) => {
    if (cache.has(word)) return cache.get(word);
    const ids = tokenizer.encode(word).filter((id) => id !== unknown);
    let v: Float64Array | undefined;
    if (ids.length > 0) {
      v = new Float64Array(dim);
      for (const id of ids) for (let d = 0; d < dim; d++) v[d] += embedding.values[id * dim + d];
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      if (norm > 0) for (let d = 0; d < dim; d++) v[d] /= norm;
      else v = undefined;
    }
    // 100k words of 100 float64: at most 80 MB.
    if (cache.size > 100_000) cache.clear();
    cache.set(word, v);
    return v;
  };
}

/** The words that have a vector, in order, with their vectors. */
export function wordsWithVectors(words: Iterable<string>, vectors: WordVectors): { words: string[]; vectors: Float64Array[] } {
  const kept: string[] = [];
  const vs: Float64Array[] = [];
  for (const w of words) {
    const v = vectors(w);
    if (v) {
      kept.push(w);
      vs.push(v);
    }
  }
  return { words: kept, vectors: vs };
}

/**
 * How well each word of one question finds a partner in the other: for every word, its best
 * cosine to the other side's words, averaged with IDF weights over both sides (mean), and the
 * worst such match among words rarer than stop words (min). A paraphrase aligns well even where
 * its words differ ("buy" ~ "purchase"); a question about something else leaves a word alone.
 */
export function alignmentFeatures(allA: readonly string[], allB: readonly string[], vectors: WordVectors, idf: (w: string) => number, common: number): { mean: number; min: number } {
  // Every word against every other costs their product: a question's first 64 words say what it asks.
  const a = allA.slice(0, 64);
  const b = allB.slice(0, 64);
  const { words: wa, vectors: va } = wordsWithVectors(new Set(a), vectors);
  const { words: wb, vectors: vb } = wordsWithVectors(new Set(b), vectors);
  // The cosines of every (word of A, word of B), once for both directions.
  const cos = new Float64Array(wa.length * wb.length);
  for (let i = 0; i < va.length; i++) {
    const v = va[i];
    for (let j = 0; j < vb.length; j++) {
      const u = vb[j];
      cos[i * wb.length + j] = dot(v, 0, u, 0, v.length);
    }
  }
  let weighted = 0;
  let weight = 0;
  let min = 1;
  const add = (w: string, best: number) => {
    const x = idf(w);
    weighted += x * best;
    weight += x;
    if (x >= common) min = Math.min(min, best);
  };
  const bWords = new Set(b);
  const aWords = new Set(a);
  wa.forEach((w, i) => {
    let best = 0;
    if (bWords.has(w)) best = 1;
    else for (let j = 0; j < wb.length; j++) best = Math.max(best, cos[i * wb.length + j]);
    add(w, best);
  });
  wb.forEach((w, j) => {
    let best = 0;
    if (aWords.has(w)) best = 1;
    else for (let i = 0; i < wa.length; i++) best = Math.max(best, cos[i * wb.length + j]);
    add(w, best);
  });
  return { mean: weight > 0 ? weighted / weight : 0, min };
}
