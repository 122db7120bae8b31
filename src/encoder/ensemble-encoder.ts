import { cosine } from './energies/cosine.js';
import type { QuestionEncoder } from './question-encoder.js';

/**
 * Two cosine towers as one index encoder: the classifier's and the retriever's unit outputs,
 * scaled by sqrt(w) and sqrt(1 - w) and concatenated. The result has unit length, so the cosine
 * energy over the whole vector is exactly w * E_classifier + (1 - w) * E_retriever: an HNSW graph
 * over these vectors ranks by the blend, and the classifier's own energy stays readable from the
 * first part (classifierEnergy).
 */
export class EnsembleEncoder implements QuestionEncoder {
  readonly dim: number;
  readonly runtime: string;

  constructor(
    private readonly classifier: QuestionEncoder,
    private readonly retriever: QuestionEncoder,
    private readonly classifierWeight: number,
  ) {
    this.dim = classifier.dim + retriever.dim;
    this.runtime = `${classifier.runtime} + ${retriever.runtime}`;
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    const a = await this.classifier.encode(texts);
    const b = await this.retriever.encode(texts);
    const out = new Float32Array(texts.length * this.dim);
    for (let i = 0; i < texts.length; i++) {
      place(out, i * this.dim, a.subarray(i * this.classifier.dim, (i + 1) * this.classifier.dim), Math.sqrt(this.classifierWeight));
      place(out, i * this.dim + this.classifier.dim, b.subarray(i * this.retriever.dim, (i + 1) * this.retriever.dim), Math.sqrt(1 - this.classifierWeight));
    }
    return out;
  }

  dispose(): void {
    this.classifier.dispose();
    this.retriever.dispose();
  }
}

/** Writes `v` scaled to length `length` into `out` at `offset` (a zero vector stays zero). */
function place(out: Float32Array, offset: number, v: Float32Array, length: number): void {
  let norm = 0;
  for (const x of v) norm += x * x;
  const scale = norm > 0 ? length / Math.sqrt(norm) : 0;
  for (let j = 0; j < v.length; j++) out[offset + j] = v[j] * scale;
}

/** The classifier tower's cosine energy between two ensemble vectors (cosine ignores the scaling). */
export function classifierEnergy(classifierDim: number): (a: Float32Array, b: Float32Array) => number {
  return (a, b) => cosine.vectors(a.subarray(0, classifierDim), b.subarray(0, classifierDim));
}
