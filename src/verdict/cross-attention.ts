import { z } from 'zod';
import type { WordVectors } from './word-vectors.js';

/**
 * A small cross-attention pair model, one input of the verdict stack: the siamese towers never
 * see both questions at once, this does. It is the decomposable attention of Parikh et al. 2016
 * ("A Decomposable Attention Model for Natural Language Inference"), cut to what stays linear in
 * the aligned words, plus ESIM's exact-match flag:
 *
 *   f_i = relu(W2 relu(W1 a_i + b1) + b2)                  attend: s_ij = f_i . g_j over B's words
 *   beta_i = sum_j softmax_j(s_ij) Q b_j                    what of B aligns with word i of A
 *   c_i = relu(U a_i + c + beta_i + [a_i in B] m)           compare
 *   v_A = max_i c_i, v_B likewise                           aggregate
 *   logit = h2 . relu(H1 [v_A + v_B, |v_A - v_B|, v_A * v_B] + d1) + d2   (symmetric in A and B)
 *
 * Every per-word projection (f, U a + c, Q a) depends on the word alone, so it is computed once
 * per word and cached; a pair then costs two |A| x |B| x hidden passes.
 */
export const CROSS_ATTENTION_PARAMS = {
  /** [in, out] matrices and [out] biases. */
  attend1: 'attend1',
  attend1Bias: 'attend1_bias',
  attend2: 'attend2',
  attend2Bias: 'attend2_bias',
  compare: 'compare',
  compareBias: 'compare_bias',
  align: 'align',
  exactMatch: 'exact_match',
  head1: 'head1',
  head1Bias: 'head1_bias',
  head2: 'head2',
  head2Bias: 'head2_bias',
} as const;

/** A question's first words carry what it asks; the rest cost |A| x |B| for little. */
export const CROSS_ATTENTION_MAX_WORDS = 40;

const TensorJson = z.object({ shape: z.array(z.number().int().positive()), values: z.string() });
export const CrossAttentionJsonSchema = z.object({
  format: z.literal('doppel-cross-attention/1'),
  hidden: z.number().int().positive(),
  /** Float32 arrays, little-endian, base64. */
  weights: z.record(z.string(), TensorJson),
  /** The training epoch kept (best validation ROC-AUC), and that ROC-AUC. */
  epoch: z.number().int().nonnegative(),
  validRocAuc: z.number(),
});
export type CrossAttentionJson = z.infer<typeof CrossAttentionJsonSchema>;

export function encodeTensor(shape: number[], values: Float32Array): z.infer<typeof TensorJson> {
  return { shape, values: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
}

function decodeTensor(name: string, json: CrossAttentionJson, shape: number[]): Float32Array {
  const t = json.weights[name];
  if (!t || t.shape.join() !== shape.join()) throw new Error(`cross-attention weight ${name} should have shape [${shape}]`);
  const bytes = Buffer.from(t.values, 'base64');
  if (bytes.length !== shape.reduce((a, b) => a * b, 1) * 4) throw new Error(`cross-attention weight ${name} holds ${bytes.length} bytes, not [${shape}] float32`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The words the model reads and their vectors: the first MAX_WORDS words that have one. */
export function crossAttentionWords(words: readonly string[], vectors: WordVectors): { words: string[]; vectors: Float32Array[] } {
  const kept: string[] = [];
  const vs: Float32Array[] = [];
  for (const w of words.slice(0, CROSS_ATTENTION_MAX_WORDS)) {
    const v = vectors(w);
    if (v) {
      kept.push(w);
      vs.push(v);
    }
  }
  return { words: kept, vectors: vs };
}

/** out = x W + b for a row x and a row-major [in, out] W. */
function affine(x: Float32Array, w: Float32Array, b: Float32Array | undefined, out: number, relu: boolean): Float32Array {
  const y = b ? Float32Array.from(b) : new Float32Array(out);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * out;
    for (let o = 0; o < out; o++) y[o] += xi * w[row + o];
  }
  if (relu) for (let o = 0; o < out; o++) if (y[o] < 0) y[o] = 0;
  return y;
}

interface WordProjection {
  attend: Float32Array;
  compare: Float32Array;
  align: Float32Array;
}

const WORD_CACHE_LIMIT = 200_000;

export class CrossAttention {
  private readonly hidden: number;
  private readonly p: Record<keyof typeof CROSS_ATTENTION_PARAMS, Float32Array>;
  private readonly projections = new Map<string, WordProjection>();

  constructor(
    readonly json: CrossAttentionJson,
    private readonly vectors: WordVectors,
  ) {
    const h = (this.hidden = json.hidden);
    const dim = json.weights[CROSS_ATTENTION_PARAMS.attend1]?.shape[0] ?? 0;
    const n = CROSS_ATTENTION_PARAMS;
    const shapes: Record<keyof typeof n, number[]> = {
      attend1: [dim, h],
      attend1Bias: [h],
      attend2: [h, h],
      attend2Bias: [h],
      compare: [dim, h],
      compareBias: [h],
      align: [dim, h],
      exactMatch: [h],
      head1: [3 * h, h],
      head1Bias: [h],
      head2: [h, 1],
      head2Bias: [1],
    };
    this.p = Object.fromEntries(Object.entries(shapes).map(([k, shape]) => [k, decodeTensor(n[k as keyof typeof n], json, shape)])) as typeof this.p;
  }

  private project(word: string, v: Float32Array): WordProjection {
    let p = this.projections.get(word);
    if (!p) {
      const { p: w, hidden: h } = this;
      p = {
        attend: affine(affine(v, w.attend1, w.attend1Bias, h, true), w.attend2, w.attend2Bias, h, true),
        compare: affine(v, w.compare, w.compareBias, h, false),
        align: affine(v, w.align, undefined, h, false),
      };
      if (this.projections.size >= WORD_CACHE_LIMIT) this.projections.clear();
      this.projections.set(word, p);
    }
    return p;
  }

  private side(a: WordProjection[], aWords: string[], b: WordProjection[], bWords: Set<string>, scores: Float32Array, transpose: boolean): Float32Array {
    const h = this.hidden;
    const pooled = new Float32Array(h);
    const weights = new Float32Array(b.length);
    const c = new Float32Array(h);
    for (let i = 0; i < a.length; i++) {
      let max = -Infinity;
      for (let j = 0; j < b.length; j++) {
        weights[j] = transpose ? scores[j * a.length + i] : scores[i * b.length + j];
        if (weights[j] > max) max = weights[j];
      }
      let sum = 0;
      for (let j = 0; j < b.length; j++) sum += weights[j] = Math.exp(weights[j] - max);
      c.set(a[i].compare);
      if (bWords.has(aWords[i])) for (let k = 0; k < h; k++) c[k] += this.p.exactMatch[k];
      for (let j = 0; j < b.length; j++) {
        const wj = weights[j] / sum;
        const q = b[j].align;
        for (let k = 0; k < h; k++) c[k] += wj * q[k];
      }
      // relu before max-pooling over words: a pooled value is never below 0.
      for (let k = 0; k < h; k++) if (c[k] > pooled[k]) pooled[k] = c[k];
    }
    return pooled;
  }

  /** The log-odds that two questions (as verdict words) are duplicates. */
  logit(wordsA: readonly string[], wordsB: readonly string[]): number {
    const A = crossAttentionWords(wordsA, this.vectors);
    const B = crossAttentionWords(wordsB, this.vectors);
    const pa = A.words.map((w, i) => this.project(w, A.vectors[i]));
    const pb = B.words.map((w, i) => this.project(w, B.vectors[i]));
    const h = this.hidden;
    const scores = new Float32Array(pa.length * pb.length);
    for (let i = 0; i < pa.length; i++) {
      for (let j = 0; j < pb.length; j++) {
        let s = 0;
        const x = pa[i].attend;
        const y = pb[j].attend;
        for (let k = 0; k < h; k++) s += x[k] * y[k];
        scores[i * pb.length + j] = s;
      }
    }
    // A side with no words aligns nothing (beta = 0), as the padded batches of training do.
    const va = this.side(pa, A.words, pb, new Set(B.words), scores, false);
    const vb = this.side(pb, B.words, pa, new Set(A.words), scores, true);
    const z = new Float32Array(3 * h);
    for (let k = 0; k < h; k++) {
      z[k] = va[k] + vb[k];
      z[h + k] = Math.abs(va[k] - vb[k]);
      z[2 * h + k] = va[k] * vb[k];
    }
    return affine(affine(z, this.p.head1, this.p.head1Bias, h, true), this.p.head2, this.p.head2Bias, 1, false)[0];
  }
}
