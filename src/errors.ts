/**
 * The single catalogue of errors Doppel raises on purpose. Each code maps to an HTTP status so
 * the service, the CLI and the library report the same failure the same way.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 400,
  INVALID_FILE: 400,
  UNAUTHORIZED: 401,
  /** A valid key whose scope or origin does not allow the request. */
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  STORE_LOCKED: 423,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  OVERLOADED: 503,
  MODEL_ERROR: 500,
  STORE_ERROR: 500,
  /** The database behind a store cannot be reached (PostgreSQL down, connection lost). */
  STORE_UNAVAILABLE: 503,
  BACKEND_UNAVAILABLE: 500,
  /** A broken promise inside Doppel itself (a bug), never the caller's input. */
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DoppelError extends Error {
  readonly code: ErrorCode;
  /**
   * What only an operator may read (a database's address, the driver's own words): the CLI
   * prints it and a server logs it, but it never goes into an HTTP answer.
   */
  readonly detail?: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: string }) {
    super(message, options);
    this.name = 'DoppelError';
    this.code = code;
    this.detail = options?.detail;
  }
  get status(): number {
    return ERROR_CODES[this.code];
  }
}

export const invalidInput = (message: string): DoppelError => new DoppelError('INVALID_INPUT', message);

/** An error in a data file, pointing at the file and the 1-based line. */
export const invalidFile = (file: string, line: number, message: string): DoppelError =>
  new DoppelError('INVALID_FILE', `${file}:${line}: ${message}`);
