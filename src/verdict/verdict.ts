import { z } from 'zod';
import { LruCache } from '../util/lru-cache.js';
import { analyse, type TextAnalysis } from './analysis.js';
import { FEATURE_NAMES, pairFeatures } from './features.js';
import { Gbt, type GbtJson } from './gbt.js';
import { Idf, type IdfJson } from './idf.js';
import { Logistic, type LogisticJson } from './logistic.js';
import { CrossAttention, CrossAttentionJsonSchema } from './cross-attention.js';
import { OperatingPointsSchema } from './operating-points.js';
import { alignmentFeatures, type WordVectors } from './word-vectors.js';

/**
 * The stack's inputs: the encoder's energy, the gradient-boosted trees' logit, the features themselves,
 * word-vector alignment and the cross-attention model's logit.
 */
export const STACK_INPUTS = ['energy', 'trees_logit', ...FEATURE_NAMES, 'alignment_mean', 'alignment_min', 'cross_attention_logit'] as const;

export const VerdictJsonSchema = z.object({
  format: z.literal('doppel-verdict/2'),
  idf: z.custom<IdfJson>((v) => typeof v === 'object' && v !== null && 'documents' in v),
  trees: z.custom<GbtJson>((v) => typeof v === 'object' && v !== null && 'trees' in v),
  stack: z.custom<LogisticJson>((v) => typeof v === 'object' && v !== null && 'weights' in v),
  crossAttention: CrossAttentionJsonSchema,
  /** Probability at or above which a pair is called a duplicate (maximum validation accuracy). */
  threshold: z.number(),
  /** Named thresholds chosen on validation (absent in stages fit before they existed). */
  operatingPoints: OperatingPointsSchema.optional(),
});
export type VerdictJson = z.infer<typeof VerdictJsonSchema>;

/** One row of the stack's inputs, in STACK_INPUTS order: the one place fitting and judging build it. */
export function stackRow(
  energy: number,
  treesLogit: number,
  features: Float64Array,
  wordsA: readonly string[],
  wordsB: readonly string[],
  vectors: WordVectors,
  idf: Idf,
  crossAttention: CrossAttention,
): Float64Array {
  const aligned = alignmentFeatures(wordsA, wordsB, vectors, (w) => idf.word(w), idf.common);
  return Float64Array.from([energy, treesLogit, ...features, aligned.mean, aligned.min, crossAttention.logit(wordsA, wordsB)]);
}

export interface Judgement {
  probability: number;
  isDuplicate: boolean;
  /** The verdict stage (energy and the words) gave the probability, or the energy alone. */
  decidedBy: 'verdict' | 'energy';
}

/** One reason of a verdict: an input and how far it moved the log-odds (positive: towards duplicate). */
export interface Reason {
  feature: string;
  value: number;
  contribution: number;
}

export interface VerdictExplanation extends Judgement {
  /** The log-odds of an average validation pair, which the reasons move. */
  baseline: number;
  reasons: Reason[];
  /** Set when a rule decided instead of the model: the two texts are the same question. */
  rule?: 'identical-text';
}

/** Analyses kept, by count and by characters of text (a long text's trigram table is large). */
const ANALYSIS_CACHE = { entries: 20_000, chars: 2_000_000 };

/**
 * The verdict stage: a calibrated logistic regression over the energy, the logit of gradient-
 * boosted trees on lexical features, the features themselves, word-vector alignment and the
 * cross-attention model's logit (a stack: the trees and the cross-attention model learn from the
 * training pairs, the regression only from pairs the encoder did not train on). Texts with the
 * same normalised form are a duplicate with probability 1.
 */
export class Verdict {
  private readonly idf: Idf;
  private readonly trees: Gbt;
  private readonly stack: Logistic;
  private readonly crossAttention: CrossAttention;
  /** Analyses of recent texts: a stored question is analysed once, not on every search. */
  private readonly analyses = new LruCache<TextAnalysis>(ANALYSIS_CACHE.entries, { maxWeight: ANALYSIS_CACHE.chars, weigh: (text) => text.length });

  /**
   * `vectors`: the encoder's word vectors, read by the alignment inputs and the cross-attention
   * model (they were fit on the encoder's training pairs; the stack that weighs both is fit on others).
   */
  constructor(
    readonly json: VerdictJson,
    private readonly vectors: WordVectors,
  ) {
    this.idf = new Idf(json.idf);
    this.trees = new Gbt(json.trees);
    this.stack = new Logistic(json.stack);
    this.crossAttention = new CrossAttention(json.crossAttention, vectors);
  }

  get threshold(): number {
    return this.json.threshold;
  }

  analysis(text: string): TextAnalysis {
    let a = this.analyses.get(text);
    if (!a) {
      a = analyse(text, this.idf);
      this.analyses.set(text, a);
    }
    return a;
  }

  features(a: string, b: string): Float64Array {
    return pairFeatures(this.analysis(a), this.analysis(b), this.idf);
  }

  /** The stack's inputs for a pair (STACK_INPUTS order): what refitting the stack alone learns from. */
  inputs(a: string, b: string, energy: number): Float64Array {
    return this.stackInputs(a, b, this.features(a, b), energy);
  }

  private stackInputs(a: string, b: string, features: Float64Array, energy: number): Float64Array {
    return stackRow(energy, this.trees.logit(features), features, this.analysis(a).words, this.analysis(b).words, this.vectors, this.idf, this.crossAttention);
  }

  /**
   * Whether the stage has evidence to weigh: both texts hold a word. A text of punctuation alone
   * leaves every lexical feature at a default the stack never saw in earnest.
   */
  applies(a: string, b: string): boolean {
    return this.analysis(a).words.length > 0 && this.analysis(b).words.length > 0;
  }

  /** The two texts are the same question once normalised: a duplicate by rule, whatever the stack says. */
  sameQuestion(a: string, b: string): boolean {
    return this.analysis(a).key === this.analysis(b).key;
  }

  judge(a: string, b: string, energy: number): Judgement {
    if (this.sameQuestion(a, b)) return { probability: 1, isDuplicate: true, decidedBy: 'verdict' };
    const probability = 1 / (1 + Math.exp(-this.stack.logit(this.stackInputs(a, b, this.features(a, b), energy))));
    return { probability, isDuplicate: probability >= this.threshold, decidedBy: 'verdict' };
  }

  /**
   * The inputs that moved the verdict, largest first. The trees' logit enters the regression as
   * one input; its share is split back onto the features along each tree's path (Saabas), so a
   * feature's contribution is its direct weight plus its part of the trees' vote.
   */
  explain(a: string, b: string, energy: number): VerdictExplanation {
    const features = this.features(a, b);
    const inputs = this.stackInputs(a, b, features, energy);
    const { bias, values } = this.stack.contributions(inputs);
    const { mean, scale, weights } = this.stack.json;
    const treesWeight = weights[1] / scale[1];
    const trees = this.trees.contributions(features, FEATURE_NAMES.length);
    const baseline = bias + treesWeight * (trees.bias - mean[1]);
    const reasons: Reason[] = [{ feature: 'energy', value: energy, contribution: values[0] }];
    FEATURE_NAMES.forEach((name, i) => {
      reasons.push({ feature: name, value: features[i], contribution: values[i + 2] + treesWeight * trees.values[i] });
    });
    for (let i = 2 + FEATURE_NAMES.length; i < STACK_INPUTS.length; i++) reasons.push({ feature: STACK_INPUTS[i], value: inputs[i], contribution: values[i] });
    reasons.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution));
    const rule = this.sameQuestion(a, b) ? { rule: 'identical-text' as const } : {};
    return { ...this.judge(a, b, energy), baseline, reasons, ...rule };
  }
}
