import { invalidInput } from '../errors.js';

/** Longest question text accepted anywhere (API, CLI, library), in UTF-16 code units after trimming. */
export const MAX_TEXT_LENGTH = 2000;

/**
 * What is wrong with a (trimmed) question text, said of the field, or undefined when it is
 * accepted: empty, longer than MAX_TEXT_LENGTH, or holding a NUL character (binary data; other
 * control characters are kept). The API, the CLI, file readers and the library all ask this.
 */
export function textProblem(trimmed: string, field = 'text'): string | undefined {
  if (trimmed.length === 0) return `${field} must not be empty`;
  if (trimmed.length > MAX_TEXT_LENGTH) return `${field} is longer than ${MAX_TEXT_LENGTH} characters (${trimmed.length})`;
  if (trimmed.includes('\0')) return `${field} contains a NUL character`;
  return undefined;
}

/** Longest id or category accepted anywhere. */
export const MAX_NAME_LENGTH = 200;

/** What is wrong with a (trimmed) id or category, said of the field, or undefined when it is accepted. */
export function nameProblem(trimmed: string, field: 'id' | 'category'): string | undefined {
  if (trimmed.length === 0) return `${field} must not be empty`;
  if (trimmed.length > MAX_NAME_LENGTH) return `${field} is longer than ${MAX_NAME_LENGTH} characters`;
  if (trimmed.includes('\0')) return `${field} contains a NUL character`;
  return undefined;
}

export function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(`${field} must be a string`);
  const trimmed = text.trim();
  const problem = textProblem(trimmed, field);
  if (problem) throw invalidInput(problem);
  return trimmed;
}
