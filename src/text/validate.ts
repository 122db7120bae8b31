import { invalidInput } from '../errors.js';

/** Longest question text accepted anywhere (API, CLI, library), in UTF-16 code units after trimming. */
export const MAX_TEXT_LENGTH = 2000;

/**
 * Why a (trimmed) question text is not accepted, or undefined when it is: empty, longer than
 * MAX_TEXT_LENGTH, or holding a NUL character (binary data; other control characters are kept).
 */
export function textProblem(trimmed: string): string | undefined {
  if (trimmed.length === 0) return 'empty text';
  if (trimmed.length > MAX_TEXT_LENGTH) return `text is longer than ${MAX_TEXT_LENGTH} characters (${trimmed.length})`;
  if (trimmed.includes('\0')) return 'text contains a NUL character';
  return undefined;
}

export function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(`${field} must be a string`);
  const trimmed = text.trim();
  if (trimmed.length === 0) throw invalidInput(`${field} must not be empty`);
  if (trimmed.length > MAX_TEXT_LENGTH) throw invalidInput(`${field} is longer than ${MAX_TEXT_LENGTH} characters`);
  if (trimmed.includes('\0')) throw invalidInput(`${field} contains a NUL character`);
  return trimmed;
}
