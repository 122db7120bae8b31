/**
 * A small typed client of the HTTP API, for Node 20+ and browsers: fetch only, no dependencies.
 * Its types are the server's own zod schemas (type-only imports, erased when compiled), so a
 * field the server adds or renames changes the client's types with it. The server serves this
 * module at GET /client.js, which the widget imports.
 *
 *   import { DoppelClient } from 'doppel/client';
 *   const doppel = new DoppelClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.DOPPEL_KEY });
 *   const { isDuplicate, matches } = await doppel.duplicates({ text: 'How do I learn Python fast?' });
 */
import type { z } from 'zod';
import type {
  BulkLine,
  BulkResultLine,
  DuplicatesBody,
  DuplicatesResponse,
  FeedbackBody,
  FeedbackCreated,
  Health,
  ModelInfo,
  Question,
  QuestionBody,
  QuestionCreated,
  QuestionDeleted,
  QuestionList,
  QuestionPatchBody,
  QuestionReplaceBody,
  QuestionStored,
  SimilarityBody,
  SimilarityResponse,
  SuggestResponse,
} from '../service/schemas.js';

type In<S extends z.ZodType> = z.input<S>;
type Out<S extends z.ZodType> = z.output<S>;

export type Match = Out<typeof DuplicatesResponse>['matches'][number];
export type StoredQuestion = Out<typeof Question>;
export type BulkResult = Out<typeof BulkResultLine>;

export interface DoppelClientOptions {
  /** Where Doppel listens, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`: a search key in a browser, a write key on a forum's server. */
  apiKey?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface SuggestOptions {
  k?: number;
  category?: string;
  operatingPoint?: 'precise' | 'balanced' | 'recall';
  minProbability?: number;
  signal?: AbortSignal;
}

/** A non-2xx answer: the server's error code and message, and the HTTP status. */
export class DoppelApiError extends Error {
  override readonly name = 'DoppelApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked to wait (429, 503), when it said. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export class DoppelClient {
  private readonly base: string;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: DoppelClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Stored questions that duplicate a text, highest probability first. */
  duplicates(body: In<typeof DuplicatesBody>, init?: { signal?: AbortSignal }): Promise<Out<typeof DuplicatesResponse>> {
    return this.json('POST', '/v1/duplicates', body, init?.signal);
  }

  /** Similar questions for a title being typed (its last word is a prefix). */
  suggest(q: string, options: SuggestOptions = {}): Promise<Out<typeof SuggestResponse>> {
    const query = new URLSearchParams({ q });
    for (const key of ['k', 'category', 'operatingPoint', 'minProbability'] as const) {
      if (options[key] !== undefined) query.set(key, String(options[key]));
    }
    return this.json('GET', `/v1/suggest?${query}`, undefined, options.signal);
  }

  similarity(body: In<typeof SimilarityBody>): Promise<Out<typeof SimilarityResponse>> {
    return this.json('POST', '/v1/similarity', body);
  }

  /** Stores a new question; answers with the stored questions it duplicated. */
  addQuestion(body: In<typeof QuestionBody>): Promise<Out<typeof QuestionCreated>> {
    return this.json('POST', '/v1/questions', body);
  }

  getQuestion(id: string): Promise<StoredQuestion> {
    return this.json('GET', `/v1/questions/${encodeURIComponent(id)}`);
  }

  /** Creates or replaces the question under `id` (re-encoded only when its text changed). */
  putQuestion(id: string, body: In<typeof QuestionReplaceBody>): Promise<Out<typeof QuestionStored>> {
    return this.json('PUT', `/v1/questions/${encodeURIComponent(id)}`, body);
  }

  /** Changes category, url or metadata (null clears one). */
  patchQuestion(id: string, body: In<typeof QuestionPatchBody>): Promise<StoredQuestion> {
    return this.json('PATCH', `/v1/questions/${encodeURIComponent(id)}`, body);
  }

  removeQuestion(id: string): Promise<Out<typeof QuestionDeleted>> {
    return this.json('DELETE', `/v1/questions/${encodeURIComponent(id)}`);
  }

  /** One page of the stored questions in id order; pass `next` as `after` for the following one. */
  listQuestions(options: { after?: string; limit?: number } = {}): Promise<Out<typeof QuestionList>> {
    const query = new URLSearchParams();
    if (options.after !== undefined) query.set('after', options.after);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    return this.json('GET', `/v1/questions?${query}`);
  }

  /** Every stored question, page after page. */
  async *allQuestions(pageSize = 500): AsyncGenerator<StoredQuestion> {
    let after: string | undefined;
    do {
      const page = await this.listQuestions({ after, limit: pageSize });
      yield* page.questions;
      after = page.next ?? undefined;
    } while (after !== undefined);
  }

  /** Creates or replaces many questions by id; one result a question, in order (an error in its own result, the rest go on). */
  async bulk(questions: In<typeof BulkLine>[]): Promise<BulkResult[]> {
    const body = questions.map((q) => JSON.stringify(q)).join('\n') + '\n';
    const text = await (await this.send('POST', '/v1/questions/bulk', body, 'application/x-ndjson')).text();
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as BulkResult);
  }

  feedback(body: In<typeof FeedbackBody>): Promise<Out<typeof FeedbackCreated>> {
    return this.json('POST', '/v1/feedback', body);
  }

  model(): Promise<Out<typeof ModelInfo>> {
    return this.json('GET', '/v1/model');
  }

  health(): Promise<Out<typeof Health>> {
    return this.json('GET', '/healthz');
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body), 'application/json', signal);
    return (await res.json()) as T;
  }

  private async send(method: string, path: string, body: string | undefined, contentType: string, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = contentType;
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const res = await this.fetcher(this.base + path, { method, headers, body, signal });
    if (res.ok) return res;
    let code = 'HTTP_ERROR';
    let message = `${method} ${path}: HTTP ${res.status}`;
    try {
      const parsed = (await res.json()) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // Not Doppel's JSON error (a proxy's page): the status says it.
    }
    const retry = Number(res.headers.get('retry-after'));
    throw new DoppelApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
}
