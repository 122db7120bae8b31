import * as tf from '@tensorflow/tfjs-core';
import { padBatch, type TokenBatch, type Tokenizer } from '../text/encoder-tokenizer.js';
import type { SiameseEncoder } from './siamese-encoder.js';

/** Turns question texts into tower outputs: row i of the result is f_w(texts[i]). */
export interface QuestionEncoder {
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
  run: (batch: TokenBatch) => Promise<Float32Array>,
): Promise<Float32Array> {
  const tokens = texts.map((t) => tokenizer.encode(t).slice(0, maxLength));
  const order = [...tokens.keys()].sort((x, y) => tokens[x].length - tokens[y].length);
  const out = new Float32Array(texts.length * dim);
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.slice(start, start + batchSize);
    const vectors = await run(padBatch(rows.map((r) => tokens[r]), tokenizer.padId));
    rows.forEach((r, i) => out.set(vectors.subarray(i * dim, (i + 1) * dim), r * dim));
  }
  return out;
}

export class TfjsQuestionEncoder implements QuestionEncoder {
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
    return encodeSorted(this.tokenizer, texts, this.encoder.config.maxLength, this.batchSize, this.dim, async (batch) => {
      const out = tf.tidy(() => this.encoder.embed(batch));
      const values = (await out.data()) as Float32Array;
      out.dispose();
      return values;
    });
  }
  dispose(): void {
    this.encoder.dispose();
  }
}
