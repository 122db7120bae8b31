import type { InferenceSession } from 'onnxruntime-node';
import type { Tokenizer } from '../../text/tokenizer.js';
import type { ModelConfig } from '../config.js';
import { encodeSorted, type TextEncoder } from '../text-encoder.js';

/** The tower run by ONNX Runtime (CPU). Loaded lazily: onnxruntime-node is only needed here. */
export class OnnxTextEncoder implements TextEncoder {
  readonly runtime: string;

  private constructor(
    private readonly session: InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly config: ModelConfig,
    readonly dim: number,
    threads: number,
    private readonly batchSize: number,
    private readonly ort: typeof import('onnxruntime-node'),
  ) {
    this.runtime = `onnxruntime-cpu(${threads} thread${threads === 1 ? '' : 's'})`;
  }

  static async create(path: string, tokenizer: Tokenizer, config: ModelConfig, dim: number, options: { threads: number; batchSize?: number }): Promise<OnnxTextEncoder> {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OnnxTextEncoder(session, tokenizer, config, dim, options.threads, options.batchSize ?? 1024, ort);
  }

  encode(texts: readonly string[]): Promise<Float32Array> {
    return encodeSorted(this.tokenizer, texts, this.config.maxLength, this.batchSize, this.dim, async (ids, lengths, count, length) => {
      const feeds = {
        ids: new this.ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [count, length]),
        lengths: new this.ort.Tensor('int32', lengths, [count]),
      };
      const out = await this.session.run(feeds);
      return out.embedding.data as Float32Array;
    });
  }

  dispose(): void {
    void this.session.release();
  }
}
