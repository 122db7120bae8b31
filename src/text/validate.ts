import { invalidInput } from '../errors.js';

/** Longest question text accepted anywhere (API, CLI, library), in UTF-16 code units after trimming. */
export const MAX_TEXT_LENGTH = 2000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What is wrong with the characters of a text, id or category, or undefined: a NUL (binary
 * data), or a lone UTF-16 surrogate (not Unicode: a store would keep U+FFFD or other bytes in
 * its place, so the id or text read back would not be the one sent).
 */
export function characterProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode (it holds a lone UTF-16 surrogate)';
  return undefined;
}

/**
 * What is wrong with a (trimmed) question text, said of the field, or undefined when it is
 * accepted: empty, longer than MAX_TEXT_LENGTH, or with a characterProblem (other control
 * characters are kept). The API, the CLI, file readers and the library all ask this.
 */
export function textProblem(trimmed: string, field = 'text'): string | undefined {
  if (trimmed.length === 0) return `${field} must not be empty`;
  if (trimmed.length > MAX_TEXT_LENGTH) return `${field} is longer than ${MAX_TEXT_LENGTH} characters (${trimmed.length})`;
  const characters = characterProblem(trimmed);
  return characters && `${field} ${characters}`;
}

/** Longest id or category accepted anywhere. */
export const MAX_NAME_LENGTH = 200;

/** What is wrong with a (trimmed) id or category, said of the field, or undefined when it is accepted. */
export function nameProblem(trimmed: string, field: 'id' | 'category'): string | undefined {
  if (trimmed.length === 0) return `${field} must not be empty`;
  if (trimmed.length > MAX_NAME_LENGTH) return `${field} is longer than ${MAX_NAME_LENGTH} characters`;
  const characters = characterProblem(trimmed);
  return characters && `${field} ${characters}`;
}

export function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(`${field} must be a string`);
  const trimmed = text.trim();
  const problem = textProblem(trimmed, field);
  if (problem) throw invalidInput(problem);
  return trimmed;
}

/** Longest question url accepted (what browsers and proxies reliably carry). */
export const MAX_URL_LENGTH = 2048;
/** Largest metadata object accepted, as UTF-8 JSON: enough for a forum's ids and counts, not for a copy of the post. */
export const MAX_METADATA_BYTES = 4096;

/** What is wrong with a question's url, or undefined: it must be an absolute http(s) URL. */
export function urlProblem(url: string): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `url is longer than ${MAX_URL_LENGTH} characters`;
  const characters = characterProblem(url);
  if (characters) return `url ${characters}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not an absolute URL';
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? undefined : 'url must be an http or https URL';
}

/** What is wrong with a question's metadata, or undefined: a JSON object of at most MAX_METADATA_BYTES. */
export function metadataProblem(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return 'metadata must be a JSON object';
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch {
    return 'metadata must be JSON';
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_METADATA_BYTES) return `metadata is ${bytes} bytes as JSON, more than ${MAX_METADATA_BYTES}`;
  // JSON escapes a NUL or a lone surrogate, but no store can keep one (PostgreSQL's jsonb refuses \u0000).
  const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : typeof v === 'object' && v !== null ? Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]) : []);
  const characters = strings(metadata).map(characterProblem).find(Boolean);
  return characters && `metadata ${characters}`;
}
