import { z } from 'zod';
import { SEARCH_MODES } from '../search/duplicate-index.js';
import { MAX_TEXT_LENGTH, textProblem } from '../text/validate.js';

const text = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`)
  .refine((t) => textProblem(t) === undefined, 'must not contain a NUL character');
const k = z.number().int().min(1).max(100);
const category = z.string().trim().min(1).max(200);

export const DuplicatesBody = z.strictObject({
  text,
  k: k.optional(),
  category: category.optional(),
  mode: z.enum(SEARCH_MODES).optional(),
});

export const QuestionBody = z.strictObject({
  id: z.string().trim().min(1).max(200).optional(),
  text,
  category: category.optional(),
});

export const SimilarityBody = z.strictObject({ a: text, b: text });

export const FeedbackBody = z
  .strictObject({
    a: text.optional(),
    b: text.optional(),
    aId: z.string().min(1).optional(),
    bId: z.string().min(1).optional(),
    isDuplicate: z.boolean(),
  })
  .refine((f) => (f.a === undefined) !== (f.aId === undefined) && (f.b === undefined) !== (f.bId === undefined), {
    message: 'give each side as text (a, b) or as a stored question id (aId, bId), not both',
  });

export const SuggestQuery = z.strictObject({
  q: z.string().max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`),
  k: z.coerce.number().int().min(1).max(20).optional(),
  category: category.optional(),
});

/** One readable sentence from a zod error: "text: must not be empty; k: ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
