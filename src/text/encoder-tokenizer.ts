import { readFile } from 'node:fs/promises';
import { env, PreTrainedTokenizer } from '@huggingface/transformers';
import { DoppelError } from '../errors.js';
import { TOKENIZER_CONFIG } from './encoder-tokenizer-spec.js';

// Doppel never reaches a model hub: every tokenizer comes from a local tokenizer.json.
env.allowRemoteModels = false;

/** A batch of token ids, right-padded to the longest sequence (row-major [count, length]). */
export interface TokenBatch {
  ids: Int32Array;
  lengths: Int32Array;
  count: number;
  length: number;
}

/**
 * Token sequences as one right-padded batch: `padTo` steps (default: the longest sequence), each
 * sequence cut to that length. An empty sequence keeps a single pad token so that every row has
 * at least one step. The one padding rule of training, the tfjs and ONNX encoders and encodeBatch.
 */
export function padBatch(sequences: readonly (readonly number[])[], padId: number, padTo?: number): TokenBatch {
  const length = padTo ?? Math.max(1, ...sequences.map((s) => s.length));
  const ids = new Int32Array(sequences.length * length).fill(padId);
  const lengths = new Int32Array(sequences.length);
  sequences.forEach((seq, i) => {
    const n = Math.min(seq.length, length);
    ids.set(n === seq.length ? seq : seq.slice(0, n), i * length);
    lengths[i] = Math.max(1, n);
  });
  return { ids, lengths, count: sequences.length, length };
}

export class Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  private readonly inner: PreTrainedTokenizer;
  readonly json: object;

  private constructor(json: object) {
    this.json = json;
    this.inner = new PreTrainedTokenizer(json, TOKENIZER_CONFIG);
    const vocab = this.inner.get_vocab() as Map<string, number> | Record<string, number>;
    this.vocabSize = vocab instanceof Map ? vocab.size : Object.keys(vocab).length;
    this.padId = this.inner.pad_token_id ?? 0;
  }

  static fromJson(json: object): Tokenizer {
    return new Tokenizer(json);
  }

  static async load(path: string): Promise<Tokenizer> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new DoppelError('MODEL_ERROR', `cannot read tokenizer ${path}: ${(err as Error).message}`);
    }
    return new Tokenizer(JSON.parse(text) as object);
  }

  /**
   * Every token, indexed by id: the order of the embedding rows. Not `Object.keys` of the
   * tokenizer.json vocabulary: a JS object lists integer-like keys ("1", "2017") first, so
   * its key order is not the id order of a vocabulary that holds numbers.
   */
  tokens(): string[] {
    const vocab = (this.json as { model: { vocab: Record<string, number> } }).model.vocab;
    const out = new Array<string>(this.vocabSize);
    for (const [token, id] of Object.entries(vocab)) out[id] = token;
    return out;
  }

  /** Token ids of one text, without special tokens. */
  encode(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false }) as number[];
  }

  /** Word-level tokens after normalisation and pre-tokenisation (what the vocabulary is built from). */
  tokenize(text: string): string[] {
    return this.inner.tokenize(text) as string[];
  }

  /**
   * Encodes texts into a padded batch. Each sequence keeps its first `maxLength` tokens; an empty
   * one keeps a single pad token so that every row has at least one step.
   */
  encodeBatch(texts: readonly string[], maxLength: number, padTo?: number): TokenBatch {
    return padBatch(texts.map((t) => this.encode(t).slice(0, maxLength)), this.padId, padTo);
  }
}
