import { readFile } from 'node:fs/promises';
import { env, PreTrainedTokenizer } from '@huggingface/transformers';
import { DoppelError } from '../errors.js';
import { TOKENIZER_CONFIG } from './tokenizer-spec.js';

// Doppel never reaches a model hub: every tokenizer comes from a local tokenizer.json.
env.allowRemoteModels = false;

/** A batch of token ids, right-padded to the longest sequence (row-major [count, length]). */
export interface TokenBatch {
  ids: Int32Array;
  lengths: Int32Array;
  count: number;
  length: number;
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
    const encoded = texts.map((t) => this.encode(t).slice(0, maxLength));
    const length = padTo ?? Math.max(1, ...encoded.map((e) => e.length));
    const ids = new Int32Array(texts.length * length).fill(this.padId);
    const lengths = new Int32Array(texts.length);
    encoded.forEach((seq, i) => {
      const n = Math.min(seq.length, length);
      for (let t = 0; t < n; t++) ids[i * length + t] = seq[t];
      lengths[i] = Math.max(1, n);
    });
    return { ids, lengths, count: texts.length, length };
  }
}
