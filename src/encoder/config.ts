import { z } from 'zod';

export const ENERGY_NAMES = ['euclidean', 'cosine', 'manhattan'] as const;
export type EnergyName = (typeof ENERGY_NAMES)[number];
export const POOLINGS = ['last', 'mean', 'max'] as const;
export type Pooling = (typeof POOLINGS)[number];
/** How fresh LSTM weights are drawn (see InitOptions in encoder.ts); not part of a saved model. */
export const LSTM_INITS = ['keras', 'uniform'] as const;
export type LstmInit = (typeof LSTM_INITS)[number];

/** The architecture of the shared tower f_w and the energy that compares two of its outputs. */
export const ModelConfigSchema = z.object({
  format: z.literal('doppel-siamese-lstm/1'),
  vocabSize: z.number().int().positive(),
  embeddingDim: z.number().int().positive(),
  hiddenUnits: z.number().int().positive(),
  layers: z.number().int().min(1).max(4),
  bidirectional: z.boolean(),
  pooling: z.enum(POOLINGS),
  /** Output size of a linear projection after pooling; 0 for none. */
  projection: z.number().int().min(0),
  energy: z.enum(ENERGY_NAMES),
  /** Tokens kept per question. */
  maxLength: z.number().int().positive(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Width of the vector the tower produces. */
export function outputDim(config: ModelConfig): number {
  if (config.projection > 0) return config.projection;
  return config.hiddenUnits * (config.bidirectional ? 2 : 1);
}
