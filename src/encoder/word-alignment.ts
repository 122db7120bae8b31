import { padBatch, type Tokenizer } from '../text/encoder-tokenizer.js';
import type { SiameseEncoder } from './siamese-encoder.js';

/** Two words, one from each question, and the share of the similarity they carry. */
export interface AlignedPair {
  a: string;
  b: string;
  /** Word positions in `wordsA` / `wordsB`. */
  aIndex: number;
  bIndex: number;
  /** Their part of cos(f(A), f(B)); the shares of all pairs sum to the cosine. */
  share: number;
}

export interface WordAlignment {
  wordsA: string[];
  wordsB: string[];
  cosine: number;
  pairs: AlignedPair[];
}

/** Words of a token sequence: word pieces ("##ing") join the word before them. */
function wordsOf(ids: number[], tokens: string[]): { words: string[]; wordOf: Int32Array } {
  const words: string[] = [];
  const wordOf = new Int32Array(ids.length);
  ids.forEach((id, t) => {
    const token = tokens[id] ?? '[UNK]';
    if (token.startsWith('##') && words.length > 0) words[words.length - 1] += token.slice(2);
    else words.push(token);
    wordOf[t] = words.length - 1;
  });
  return { words, wordOf };
}

/**
 * Which word pairs carry the similarity of two questions. With max pooling each dimension d of
 * an embedding is the state of one token, so cos(u, v) = sum_d u_d v_d / (|u| |v|) splits into
 * the terms of the (token in A, token in B) pairs that dimension d came from; pieces of a word
 * are summed into the word. The shares are exact, not a gradient approximation.
 */
export function alignWords(encoder: SiameseEncoder, tokenizer: Tokenizer, tokens: string[], a: string, b: string, top = 8): WordAlignment {
  const maxLength = encoder.config.maxLength;
  const ids = [a, b].map((t) => {
    const v = tokenizer.encode(t).slice(0, maxLength);
    return v.length > 0 ? v : [tokenizer.padId];
  });
  const { positions, vectors } = encoder.maxPositions(padBatch(ids, tokenizer.padId));
  const [wa, wb] = ids.map((v) => wordsOf(v, tokens));
  const [u, v] = vectors;
  const norm = (x: Float32Array) => Math.sqrt(x.reduce((s, y) => s + y * y, 0)) || 1;
  const scale = norm(u) * norm(v);
  const shares = new Map<number, number>();
  let cosine = 0;
  for (let d = 0; d < u.length; d++) {
    const term = (u[d] * v[d]) / scale;
    cosine += term;
    const key = wa.wordOf[positions[0][d]] * wb.words.length + wb.wordOf[positions[1][d]];
    shares.set(key, (shares.get(key) ?? 0) + term);
  }
  const pairs = [...shares]
    .map(([key, share]) => {
      const aIndex = Math.floor(key / wb.words.length);
      const bIndex = key % wb.words.length;
      return { a: wa.words[aIndex], b: wb.words[bIndex], aIndex, bIndex, share };
    })
    .sort((x, y) => y.share - x.share)
    .slice(0, top);
  return { wordsA: wa.words, wordsB: wb.words, cosine, pairs };
}
