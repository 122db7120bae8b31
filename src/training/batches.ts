import type { Pair } from '../data/pairs.js';
import { padBatch, type TokenBatch, type Tokenizer } from '../text/encoder-tokenizer.js';
import type { Random } from '../util/random.js';

/** Pairs with their token ids, tokenized once per distinct text. */
export interface EncodedPair {
  a: number[];
  b: number[];
  label: 0 | 1;
}

export function encodePairs(tokenizer: Tokenizer, pairs: Pair[], maxLength: number): EncodedPair[] {
  const cache = new Map<string, number[]>();
  const ids = (text: string) => {
    let v = cache.get(text);
    if (!v) {
      v = tokenizer.encode(text).slice(0, maxLength);
      if (v.length === 0) v = [tokenizer.padId];
      cache.set(text, v);
    }
    return v;
  };
  return pairs.map((p) => ({ a: ids(p.q1), b: ids(p.q2), label: p.label }));
}

/**
 * One epoch of batches: shuffled, then sorted by length inside windows of 32 batches so that
 * each batch pads to a similar length, then the batch order is shuffled again.
 */
export function epochBatches(pairs: EncodedPair[], batchSize: number, rng: Random): EncodedPair[][] {
  const shuffled = rng.shuffle([...pairs]);
  const window = batchSize * 32;
  const batches: EncodedPair[][] = [];
  for (let w = 0; w < shuffled.length; w += window) {
    const chunk = shuffled.slice(w, w + window).sort((x, y) => Math.max(x.a.length, x.b.length) - Math.max(y.a.length, y.b.length));
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return rng.shuffle(batches);
}

/** Both towers' inputs as one batch: rows 0..B-1 are the first questions, B..2B-1 the second. */
export function towerBatch(batch: EncodedPair[], padId: number): TokenBatch {
  return padBatch([...batch.map((p) => p.a), ...batch.map((p) => p.b)], padId);
}
