import { invalidInput } from '../errors.js';

/** Longest question text accepted anywhere (API, CLI, library). */
export const MAX_TEXT_LENGTH = 2000;

export function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(`${field} must be a string`);
  const trimmed = text.trim();
  if (trimmed.length === 0) throw invalidInput(`${field} must not be empty`);
  if (trimmed.length > MAX_TEXT_LENGTH) throw invalidInput(`${field} is longer than ${MAX_TEXT_LENGTH} characters`);
  return trimmed;
}
