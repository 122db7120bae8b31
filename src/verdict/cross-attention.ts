import { z } from 'zod';
import { dot } from '../util/dot.js';
import { type WordVectors, wordsWithVectors } from './word-vectors.js';
import { DoppelError } from '../errors.js';

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
 * per word and cached; a pair then costs three |A| x |B| x hidden passes (the scores, then each
 * side's mixing).
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
  /** The training epoch kept (best validation ROC-AUC), and that ROC-AUC (null: undefined, validation pairs of one class). */
  epoch: z.number().int().positive(),
  validRocAuc: z.number().nullable(),
});
export type CrossAttentionJson = z.infer<typeof CrossAttentionJsonSchema>;

export function encodeTensor(shape: number[], values: Float32Array): z.infer<typeof TensorJson> {
  return { shape, values: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
}

/** A weight as float64: the inference loops then read no float32 they must convert. */
function decodeTensor(name: string, json: CrossAttentionJson, shape: number[]): Float64Array {
  const t = json.weights[name];
  if (!t || t.shape.join() !== shape.join()) throw new DoppelError('MODEL_ERROR', `cross-attention weight ${name} should have shape [${shape}]`);
  const bytes = Buffer.from(t.values, 'base64');
  if (bytes.length !== shape.reduce((a, b) => a * b, 1) * 4) throw new DoppelError('MODEL_ERROR', `cross-attention weight ${name} holds ${bytes.length} bytes, not [${shape}] float32`);
  return Float64Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
}

/** The words the model reads and their vectors: those of the first MAX_WORDS words that have a vector. */
export function crossAttentionWords(words: readonly string[], vectors: WordVectors): { words: string[]; vectors: Float64Array[] } {
  return wordsWithVectors(words.slice(0, CROSS_ATTENTION_MAX_WORDS), vectors);
}

/**
 * out = x W + b for a row x, with W given transposed ([out, in], row-major): each output is then
 * one dot product accumulated in a register rather than a running sum stored back per input.
 * Float64Array in and out, always: one element kind keeps the loop monomorphic.
 */
function affine(x: Float64Array, wT: Float64Array, b: Float64Array | undefined, relu: boolean, y: Float64Array): Float64Array {
  const n = x.length;
  for (let o = 0; o < y.length; o++) {
    const s = (b ? b[o] : 0) + dot(x, 0, wT, o * n, n);
    y[o] = relu && s < 0 ? 0 : s;
  }
  return y;
}

/** [rows, cols] row-major to [cols, rows]. */
function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/**
 * A word's projections cost ~23k multiply-adds; looking one up, a map read: words are what is
 * worth caching, enough of them for an archive's vocabulary (dedup judges every question's
 * neighbours). A cached word is [attend | compare | align], 3 x hidden float64 (1.5 KB at 64):
 * at most about 75 MB. Texts are not cached: a pair reads its words' projections in place.
 */
const WORD_CACHE = 50_000;

export class CrossAttention {
  private readonly hidden: number;
  /** The word vectors' dimension the weights expect. */
  readonly dim: number;
  private readonly p: Record<keyof typeof CROSS_ATTENTION_PARAMS, Float64Array>;
  /** null: the word has no vector, the model does not read it. */
  private readonly projections = new Map<string, Float64Array | null>();
  /** Reused per call (judging is synchronous): a pair allocates little. */
  private readonly scratch: {
    scores: Float64Array;
    weights: Float64Array;
    c: Float64Array;
    matchA: Uint8Array;
    matchB: Uint8Array;
    pooledA: Float64Array;
    pooledB: Float64Array;
    z: Float64Array;
    hidden: Float64Array;
    out: Float64Array;
  };

  constructor(
    readonly json: CrossAttentionJson,
    private readonly vectors: WordVectors,
  ) {
    const h = (this.hidden = json.hidden);
    const buffer = (n: number) => new Float64Array(n);
    const words = CROSS_ATTENTION_MAX_WORDS;
    this.scratch = {
      scores: buffer(words * words),
      weights: buffer(words),
      c: buffer(h),
      matchA: new Uint8Array(words),
      matchB: new Uint8Array(words),
      pooledA: buffer(h),
      pooledB: buffer(h),
      z: buffer(3 * h),
      hidden: buffer(h),
      out: buffer(1),
    };
    const dim = (this.dim = json.weights[CROSS_ATTENTION_PARAMS.attend1]?.shape[0] ?? 0);
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
    // Matrices are kept transposed for affine().
    this.p = Object.fromEntries(
      Object.entries(shapes).map(([k, shape]) => {
        const values = decodeTensor(n[k as keyof typeof n], json, shape);
        return [k, shape.length === 2 ? transpose(values, shape[0], shape[1]) : values];
      }),
    ) as typeof this.p;
  }

  /** The word's cached projections, [attend | compare | align]; null for a word without a vector. */
  private projection(word: string): Float64Array | null {
    let p = this.projections.get(word);
    if (p === undefined) {
      const v = this.vectors(word);
      p = null;
      if (v) {
        const { p: w, hidden: h } = this;
        p = new Float64Array(3 * h);
        p.set(affine(affine(v, w.attend1, w.attend1Bias, true, new Float64Array(h)), w.attend2, w.attend2Bias, true, new Float64Array(h)), 0);
        p.set(affine(v, w.compare, w.compareBias, false, new Float64Array(h)), h);
        p.set(affine(v, w.align, undefined, false, new Float64Array(h)), 2 * h);
      }
      if (this.projections.size >= WORD_CACHE) this.projections.clear();
      this.projections.set(word, p);
    }
    return p;
  }

  /** What the model reads of a question: the projections of crossAttentionWords' words. */
  private read(words: readonly string[]): { words: string[]; projections: Float64Array[] } {
    const kept: string[] = [];
    const projections: Float64Array[] = [];
    for (let i = 0; i < words.length && i < CROSS_ATTENTION_MAX_WORDS; i++) {
      const p = this.projection(words[i]);
      if (p) {
        kept.push(words[i]);
        projections.push(p);
      }
    }
    return { words: kept, projections };
  }

  /**
   * One side's pooled comparison vector. Word i of `a` weighs word j of `b` by
   * scores[i * rowStride + j * colStride]: the score matrix is [A x B], read by rows for A and
   * by columns for B. match[i]: word i of `a` is also in `b`.
   */
  private side(a: Float64Array[], b: Float64Array[], scores: Float64Array, rowStride: number, colStride: number, match: Uint8Array, pooled: Float64Array): Float64Array {
    const h = this.hidden;
    const { weights, c } = this.scratch;
    const { exactMatch } = this.p;
    pooled.fill(0);
    for (let i = 0; i < a.length; i++) {
      let max = -Infinity;
      for (let j = 0; j < b.length; j++) {
        const s = scores[i * rowStride + j * colStride];
        weights[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < b.length; j++) sum += weights[j] = Math.exp(weights[j] - max);
      const pa = a[i];
      for (let k = 0; k < h; k++) c[k] = pa[h + k] + (match[i] ? exactMatch[k] : 0);
      for (let j = 0; j < b.length; j++) {
        const w = weights[j] / sum;
        const pb = b[j];
        const off = 2 * h;
        let k = 0;
        for (; k + 3 < h; k += 4) {
          c[k] += w * pb[off + k];
          c[k + 1] += w * pb[off + k + 1];
          c[k + 2] += w * pb[off + k + 2];
          c[k + 3] += w * pb[off + k + 3];
        }
        for (; k < h; k++) c[k] += w * pb[off + k];
      }
      // relu before max-pooling over words: a pooled value is never below 0.
      for (let k = 0; k < h; k++) if (c[k] > pooled[k]) pooled[k] = c[k];
    }
    return pooled;
  }

  /** The log-odds that two questions (as verdict words) are duplicates. */
  logit(wordsA: readonly string[], wordsB: readonly string[]): number {
    const a = this.read(wordsA);
    const b = this.read(wordsB);
    const h = this.hidden;
    const la = a.words.length;
    const lb = b.words.length;
    // At most MAX_WORDS words a side: the buffers are sized for it.
    const scratch = this.scratch;
    const { scores, matchA, matchB } = scratch;
    matchA.fill(0);
    matchB.fill(0);
    for (let i = 0; i < la; i++) {
      for (let j = 0; j < lb; j++) {
        scores[i * lb + j] = dot(a.projections[i], 0, b.projections[j], 0, h);
        if (a.words[i] === b.words[j]) matchA[i] = matchB[j] = 1;
      }
    }
    // A side with no words aligns nothing (beta = 0), as the padded batches of training do.
    const va = this.side(a.projections, b.projections, scores, lb, 1, matchA, scratch.pooledA);
    const vb = this.side(b.projections, a.projections, scores, 1, lb, matchB, scratch.pooledB);
    const z = scratch.z;
    for (let k = 0; k < h; k++) {
      z[k] = va[k] + vb[k];
      z[h + k] = Math.abs(va[k] - vb[k]);
      z[2 * h + k] = va[k] * vb[k];
    }
    affine(z, this.p.head1, this.p.head1Bias, true, scratch.hidden);
    return affine(scratch.hidden, this.p.head2, this.p.head2Bias, false, scratch.out)[0];
  }
}
