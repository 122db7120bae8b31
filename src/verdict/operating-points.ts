import { z } from 'zod';

/**
 * Named thresholds on the verdict's probability, chosen on the validation clusters when the
 * stage is fit: `precise` (precision >= 0.90 there), `balanced` (best F1) and `recall`
 * (recall >= 0.90). Each keeps the precision and recall it had on validation.
 */
export const OPERATING_POINTS = ['precise', 'balanced', 'recall'] as const;
export type OperatingPointName = (typeof OPERATING_POINTS)[number];

/** What a forum shows its users by default: a wrong "duplicate" badge costs more than a missed one. */
export const DEFAULT_OPERATING_POINT: OperatingPointName = 'precise';

export const OperatingPointSchema = z.object({
  threshold: z.number().min(0).max(1),
  precision: z.number().nullable(),
  recall: z.number().nullable(),
});
export type OperatingPoint = z.infer<typeof OperatingPointSchema>;

export const OperatingPointsSchema = z.object({ precise: OperatingPointSchema, balanced: OperatingPointSchema, recall: OperatingPointSchema });
export type OperatingPoints = z.infer<typeof OperatingPointsSchema>;

/** The precision and recall that operating points are chosen for. */
export const OPERATING_TARGETS = { precision: 0.9, recall: 0.9 } as const;
