import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../text/tokenizer.js';
import type { SiameseEncoder } from './encoder.js';

/** Turns question texts into tower outputs: row i of the result is f_w(texts[i]). */
export interface TextEncoder {
  readonly dim: number;
  /** Which runtime runs the tower, for logs and metrics. */
  readonly runtime: string;
  encode(texts: readonly string[]): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Encodes in batches of similar length (sorted by token count) so little time goes on padding,
 * then writes each vector back to its text's row.
 */
export async function encodeSorted(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number,
  batchSize: number,
  dim: number,
  run: (ids: Int32Array, lengths: Int32Array, count: number, length: number) => Promise<Float32Array>,
): Promise<Float32Array> {
  const tokens = texts.map((t) => tokenizer.encode(t).slice(0, maxLength));
  const order = [...tokens.keys()].sort((x, y) => tokens[x].length - tokens[y].length);
  const out = new Float32Array(texts.length * dim);
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.slice(start, start + batchSize);
    const length = Math.max(1, ...rows.map((r) => tokens[r].length));
    const ids = new Int32Array(rows.length * length).fill(tokenizer.padId);
    const lengths = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      ids.set(tokens[r], i * length);
      lengths[i] = Math.max(1, tokens[r].length);
    });
    const vectors = await run(ids, lengths, rows.length, length);
    rows.forEach((r, i) => out.set(vectors.subarray(i * dim, (i + 1) * dim), r * dim));
  }
  return out;
}

export class TfjsTextEncoder implements TextEncoder {
  readonly runtime: string;
  constructor(
    private readonly encoder: SiameseEncoder,
    private readonly tokenizer: Tokenizer,
    private readonly batchSize = 256,
  ) {
    this.runtime = `tfjs-${tf.getBackend()}`;
  }
  get dim(): number {
    return this.encoder.dim;
  }
  encode(texts: readonly string[]): Promise<Float32Array> {
    return encodeSorted(this.tokenizer, texts, this.encoder.config.maxLength, this.batchSize, this.dim, async (ids, lengths, count, length) => {
      const out = tf.tidy(() => this.encoder.embed({ ids, lengths, count, length }));
      const values = (await out.data()) as Float32Array;
      out.dispose();
      return values;
    });
  }
  dispose(): void {
    this.encoder.dispose();
  }
}
