/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas in schemas.ts with
 * zod's own JSON Schema output (draft 2020-12, the dialect OpenAPI 3.1 uses). Nothing here is
 * hand-written JSON Schema: this file only says which schema goes where (route, parameter, body,
 * status). test/openapi.test.ts checks that the routes listed here are the routes app.ts
 * registers, and that every real response validates against what the document declares.
 */
import { z } from 'zod';
import {
  DuplicatesBody,
  DuplicatesResponse,
  ErrorResponse,
  FeedbackBody,
  FeedbackCreated,
  ReviewDecisionBody,
  ActivationStatus,
  ModelActivateBody,
  ReviewItem,
  ReviewPage,
  ReviewParams,
  ReviewQuery,
  Decision,
  Health,
  ModelInfo,
  Html,
  Match,
  MetricsText,
  OpenApiDocument,
  BulkLine,
  BulkResultLine,
  ListQuery,
  Question,
  QuestionBody,
  QuestionCreated,
  QuestionDeleted,
  QuestionList,
  QuestionParams,
  QuestionPatchBody,
  QuestionReplaceBody,
  QuestionStored,
  Script,
  SimilarityBody,
  SimilarityResponse,
  SuggestQuery,
  SuggestResponse,
} from './schemas.js';
import { DoppelError } from '../errors.js';
import type { KeyScope } from '../search/api-keys.js';

type JsonSchema = Record<string, unknown>;
type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface ApiResponse {
  description: string;
  schema: z.ZodType;
  /** Default application/json. */
  mediaType?: string;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
}

export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The Express route pattern, as app.ts registers it ('/v1/questions/:id'). */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /** The key scope it needs (auth.ts); none: public. A search route needs a key only with --require-key. */
  scope?: KeyScope;
  params?: ObjectSchema;
  query?: ObjectSchema;
  body?: z.ZodType;
  /** Default application/json. */
  bodyMediaType?: string;
  responses: Record<number, ApiResponse>;
}

/** Names under #/components/schemas: request bodies are described as clients send them (zod input), responses as the server writes them (zod output). */
const REQUEST_COMPONENTS: [string, z.ZodType][] = [
  ['DuplicatesRequest', DuplicatesBody],
  ['QuestionRequest', QuestionBody],
  ['QuestionReplaceRequest', QuestionReplaceBody],
  ['QuestionPatchRequest', QuestionPatchBody],
  ['BulkLine', BulkLine],
  ['SimilarityRequest', SimilarityBody],
  ['FeedbackRequest', FeedbackBody],
  ['ReviewDecisionRequest', ReviewDecisionBody],
  ['ModelActivateRequest', ModelActivateBody],
];
const RESPONSE_COMPONENTS: [string, z.ZodType][] = [
  ['Error', ErrorResponse],
  ['Match', Match],
  ['DuplicatesResponse', DuplicatesResponse],
  ['QuestionCreated', QuestionCreated],
  ['Question', Question],
  ['QuestionStored', QuestionStored],
  ['QuestionList', QuestionList],
  ['BulkResultLine', BulkResultLine],
  ['QuestionDeleted', QuestionDeleted],
  ['SimilarityResponse', SimilarityResponse],
  ['SuggestResponse', SuggestResponse],
  ['FeedbackCreated', FeedbackCreated],
  ['ReviewItem', ReviewItem],
  ['ReviewPage', ReviewPage],
  ['Health', Health],
  ['Decision', Decision],
  ['ModelInfo', ModelInfo],
  ['ActivationStatus', ActivationStatus],
  ['OpenApiDocument', OpenApiDocument],
];

const error = (description: string, headers?: ApiResponse['headers']): ApiResponse => ({ description, schema: ErrorResponse, headers });
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before the next request.', schema: z.number().int().min(1) } };
const WWW_AUTHENTICATE = { 'WWW-Authenticate': { description: 'The scheme to use: Bearer.', schema: z.string() } };
const E = {
  400: error('The body, query or path is invalid; the message says what.'),
  401: error('Missing, unknown or revoked API key.', WWW_AUTHENTICATE),
  403: error("The key's scope or origin does not allow this request."),
  413: error('The body is larger than the limit (64 KiB by default).'),
  415: error('The body is not application/json, or its charset or content encoding is not supported.'),
  429: error('Too many requests from this address.', RETRY_AFTER),
  500: error('Internal error.'),
};
/** What every route under /v1 may answer besides its own statuses (the rate limiter sits in front of them all). */
const V1 = { 429: E[429], 500: E[500] };
/** What a route that encodes and searches may answer under load (admission.ts): retry shortly. */
const BUSY = { 503: error('The server is busy: the request would not start within its deadline (expected or waited), or the wait list is full.', RETRY_AFTER) };
/** What a route with a JSON body may answer before its handler runs. */
const JSON_BODY = { 400: E[400], 413: E[413], 415: E[415] };
/** What a route behind a key may answer. */
const KEYED = { 401: E[401], 403: E[403] };
const NO_QUESTION = { 404: error('No stored question has this id.') };

/** Every route app.ts registers, in the order it registers them. */
export const API_OPERATIONS: ApiOperation[] = [
  {
    method: 'post',
    path: '/v1/duplicates',
    operationId: 'findDuplicates',
    summary: 'Stored questions that duplicate a text',
    tags: ['questions'],
    scope: 'search',
    body: DuplicatesBody,
    responses: { 200: { description: 'The closest stored questions and the verdict.', schema: DuplicatesResponse }, ...JSON_BODY, ...KEYED, ...V1, ...BUSY },
  },
  {
    method: 'post',
    path: '/v1/questions/bulk',
    operationId: 'bulkQuestions',
    summary: 'Create or replace many questions by id: NDJSON in, one NDJSON answer line per input line',
    tags: ['questions'],
    scope: 'write',
    body: BulkLine,
    bodyMediaType: 'application/x-ndjson',
    responses: {
      200: { description: 'One line per input line, in order, each written once its question is durable: what was done, or why not.', schema: BulkResultLine, mediaType: 'application/x-ndjson' },
      ...KEYED,
      415: E[415],
      ...V1,
    },
  },
  {
    method: 'get',
    path: '/v1/questions',
    operationId: 'listQuestions',
    summary: 'Every stored question, a page at a time in id order (for a sync)',
    tags: ['questions'],
    scope: 'write',
    query: ListQuery,
    responses: { 200: { description: 'A page.', schema: QuestionList }, 400: error('The query is invalid.'), ...KEYED, ...V1 },
  },
  {
    method: 'post',
    path: '/v1/questions',
    operationId: 'addQuestion',
    summary: 'Store and index a question; returns the duplicates it had before insertion',
    tags: ['questions'],
    scope: 'write',
    body: QuestionBody,
    responses: {
      201: { description: 'Stored and indexed.', schema: QuestionCreated },
      ...JSON_BODY,
      ...KEYED,
      409: error('A question with this id is already stored.'),
      ...V1,
      ...BUSY,
    },
  },
  {
    method: 'get',
    path: '/v1/questions/:id',
    operationId: 'getQuestion',
    summary: 'A stored question',
    tags: ['questions'],
    scope: 'search',
    params: QuestionParams,
    responses: { 200: { description: 'The question.', schema: Question }, 400: error('The id is not valid percent-encoding.'), ...KEYED, ...NO_QUESTION, ...V1 },
  },
  {
    method: 'put',
    path: '/v1/questions/:id',
    operationId: 'putQuestion',
    summary: 'Create or replace the question under an id (re-encoded only when its text changes)',
    tags: ['questions'],
    scope: 'write',
    params: QuestionParams,
    body: QuestionReplaceBody,
    responses: {
      200: { description: 'Replaced, updated or unchanged.', schema: QuestionStored },
      201: { description: 'Created.', schema: QuestionStored },
      ...JSON_BODY,
      ...KEYED,
      409: error('The question with this id was removed: ids are not reused.'),
      ...V1,
      ...BUSY,
    },
  },
  {
    method: 'patch',
    path: '/v1/questions/:id',
    operationId: 'patchQuestion',
    summary: "Change a stored question's category, url or metadata (not encoded again)",
    tags: ['questions'],
    scope: 'write',
    params: QuestionParams,
    body: QuestionPatchBody,
    responses: { 200: { description: 'The question as stored now.', schema: Question }, ...JSON_BODY, ...KEYED, ...NO_QUESTION, ...V1 },
  },
  {
    method: 'delete',
    path: '/v1/questions/:id',
    operationId: 'deleteQuestion',
    summary: 'Remove a question from the store and the index',
    tags: ['questions'],
    scope: 'write',
    params: QuestionParams,
    responses: { 200: { description: 'Removed.', schema: QuestionDeleted }, 400: error('The id is not valid percent-encoding.'), ...KEYED, ...NO_QUESTION, ...V1 },
  },
  {
    method: 'post',
    path: '/v1/similarity',
    operationId: 'scoreSimilarity',
    summary: 'Energy, probability and verdict for two texts',
    tags: ['model'],
    scope: 'search',
    body: SimilarityBody,
    responses: { 200: { description: 'The score of the pair.', schema: SimilarityResponse }, ...JSON_BODY, ...KEYED, ...V1, ...BUSY },
  },
  {
    method: 'get',
    path: '/v1/suggest',
    operationId: 'suggest',
    summary: 'Similar questions for a title being typed',
    tags: ['questions'],
    scope: 'search',
    query: SuggestQuery,
    responses: { 200: { description: 'Suggestions, best first.', schema: SuggestResponse }, 400: error('The query is invalid (unknown, repeated or out-of-range parameters).'), ...KEYED, ...V1, ...BUSY },
  },
  {
    method: 'post',
    path: '/v1/feedback',
    operationId: 'addFeedback',
    summary: "A moderator's verdict on a pair (texts or stored ids), kept as training data",
    tags: ['feedback'],
    scope: 'write',
    body: FeedbackBody,
    responses: {
      201: { description: 'Stored.', schema: FeedbackCreated },
      ...JSON_BODY,
      ...KEYED,
      404: error('A question id given (aId, bId) is not stored.'),
      ...V1,
    },
  },
  {
    method: 'get',
    path: '/v1/review',
    operationId: 'reviewQueue',
    summary: 'Pairs the model was unsure of, the most informative first, with what moderators decided so far',
    tags: ['feedback'],
    scope: 'admin',
    query: ReviewQuery,
    responses: { 200: { description: 'The head of the queue.', schema: ReviewPage }, 400: error('The query is invalid.'), ...KEYED, ...V1 },
  },
  {
    method: 'post',
    path: '/v1/review/:id',
    operationId: 'decideReview',
    summary: "A moderator's decision on a queued pair: duplicate and different are kept as feedback under the key's name",
    tags: ['feedback'],
    scope: 'admin',
    params: ReviewParams,
    body: ReviewDecisionBody,
    responses: {
      200: { description: 'Decided.', schema: ReviewItem },
      ...JSON_BODY,
      ...KEYED,
      404: error('No review item has this id.'),
      409: error('The item was decided already.'),
      ...V1,
    },
  },
  {
    method: 'get',
    path: '/v1/model',
    operationId: 'model',
    summary: 'The model serving, its operating points and the default one',
    tags: ['operations'],
    scope: 'search',
    responses: { 200: { description: 'The model.', schema: ModelInfo }, ...KEYED, ...V1 },
  },
  {
    method: 'post',
    path: '/v1/model/activate',
    operationId: 'activateModel',
    summary: 'Put another model into service without downtime: the stored questions are encoded with it in the background, then it takes over in one switch',
    tags: ['operations'],
    scope: 'admin',
    body: ModelActivateBody,
    responses: {
      202: { description: 'Started; GET /v1/model shows its progress.', schema: ActivationStatus },
      ...JSON_BODY,
      ...KEYED,
      409: error('An activation is running, or this server (serve --workers) cannot switch models.'),
      ...V1,
    },
  },
  {
    method: 'post',
    path: '/v1/model/rollback',
    operationId: 'rollbackModel',
    summary: 'Put the model the store had before the last switch back into service (an activation: only questions added since are encoded)',
    tags: ['operations'],
    scope: 'admin',
    responses: {
      202: { description: 'Started; GET /v1/model shows its progress.', schema: ActivationStatus },
      ...KEYED,
      409: error('No previous model is recorded, an activation is running, or this server cannot switch models.'),
      ...V1,
    },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness, index size and the model in use',
    tags: ['operations'],
    responses: { 200: { description: 'Up.', schema: Health }, 500: E[500] },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics: requests by route and by key, index size, model, and the process (CPU, memory, event loop, GC)',
    tags: ['operations'],
    scope: 'admin',
    responses: { 200: { description: 'Prometheus text format.', schema: MetricsText, mediaType: 'text/plain' }, ...KEYED, 500: E[500] },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApi',
    summary: 'This document',
    tags: ['operations'],
    responses: { 200: { description: 'The OpenAPI document.', schema: OpenApiDocument }, 500: E[500] },
  },
  {
    method: 'get',
    path: '/widget.js',
    operationId: 'widgetScript',
    summary: 'The embeddable "similar questions" widget for a forum page (docs/integration.md)',
    tags: ['web'],
    responses: { 200: { description: 'The script.', schema: Script, mediaType: 'application/javascript' }, 500: E[500] },
  },
  {
    method: 'get',
    path: '/client.js',
    operationId: 'clientModule',
    summary: 'The typed API client as an ES module (what the widget imports)',
    tags: ['web'],
    responses: { 200: { description: 'The module.', schema: Script, mediaType: 'application/javascript' }, 500: E[500] },
  },
  {
    method: 'get',
    path: '/',
    operationId: 'webPage',
    summary: 'The web page: search-as-you-type over the stored questions',
    tags: ['web'],
    responses: { 200: { description: 'The page.', schema: Html, mediaType: 'text/html' }, 500: E[500] },
  },
  {
    method: 'get',
    path: '/review',
    operationId: 'reviewPage',
    summary: 'The moderator page: the review queue, one pair at a time (it asks for an admin key)',
    tags: ['web'],
    responses: { 200: { description: 'The page.', schema: Html, mediaType: 'text/html' }, 500: E[500] },
  },
];

/** '/v1/questions/:id' -> '/v1/questions/{id}'. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, '{$1}');

const clean = (schema: JsonSchema): JsonSchema => {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
};

/** One zod schema as a JSON Schema (2020-12) fragment, without the $schema line. */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema =>
  clean(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as JsonSchema);

/** The named schemas of a list, generated together so they refer to each other by $ref. */
function components(list: [string, z.ZodType][], io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of list) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, unrepresentable: 'throw', uri: (id) => `#/components/schemas/${id}` });
  if ('__shared' in schemas) throw new DoppelError('INTERNAL', 'openapi: a schema needs shared definitions; give it a component name');
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, clean(s as JsonSchema)]));
}

let generated: { schemas: Record<string, JsonSchema>; paths: Record<string, Record<string, unknown>> } | undefined;

function generate() {
  const schemas = { ...components(REQUEST_COMPONENTS, 'input'), ...components(RESPONSE_COMPONENTS, 'output') };
  const names = new Map<z.ZodType, string>([...REQUEST_COMPONENTS, ...RESPONSE_COMPONENTS].map(([id, s]) => [s, id]));
  if (Object.keys(schemas).length !== names.size) throw new DoppelError('INTERNAL', 'openapi: two components share a name');
  const schemaOf = (schema: z.ZodType, io: 'input' | 'output') => {
    const name = names.get(schema);
    return name ? { $ref: `#/components/schemas/${name}` } : jsonSchema(schema, io);
  };
  const parameters = (where: 'path' | 'query', object: ObjectSchema) =>
    Object.entries(object.shape).map(([name, field]) => {
      const { description, ...schema } = jsonSchema(field as z.ZodType, 'input');
      return { name, in: where, required: where === 'path' || !(field as z.ZodType).isOptional(), ...(description ? { description } : {}), schema };
    });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of API_OPERATIONS) {
    const responses = Object.fromEntries(
      Object.entries(op.responses).map(([status, r]) => [
        status,
        {
          description: r.description,
          ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, v]) => [h, { description: v.description, schema: jsonSchema(v.schema, 'output') }])) } : {}),
          content: { [r.mediaType ?? 'application/json']: { schema: schemaOf(r.schema, 'output') } },
        },
      ]),
    );
    const operation = {
      operationId: op.operationId,
      summary: op.summary,
      tags: op.tags,
      // A search route takes a key (and needs one with --require-key); a write or admin route needs one once the server has keys.
      security: op.scope === undefined ? [] : op.scope === 'search' ? [{}, { bearer: [] }] : [{ bearer: [] }],
      ...(op.scope ? { 'x-doppel-scope': op.scope } : {}),
      ...(op.params || op.query ? { parameters: [...(op.params ? parameters('path', op.params) : []), ...(op.query ? parameters('query', op.query) : [])] } : {}),
      ...(op.body ? { requestBody: { required: true, content: { [op.bodyMediaType ?? 'application/json']: { schema: schemaOf(op.body, 'input') } } } } : {}),
      responses,
    };
    (paths[openApiPath(op.path)] ??= {})[op.method] = operation;
  }
  return { schemas, paths };
}

/** The OpenAPI 3.1 description of the routes in app.ts (a fresh copy: callers may change it). */
export function openApiDocument(version: string) {
  generated ??= generate();
  const { schemas, paths } = structuredClone(generated);
  return {
    openapi: '3.1.0',
    servers: [{ url: 'http://127.0.0.1:8080', description: 'doppel serve, as the README starts it (--host, --port)' }],
    info: {
      title: 'Doppel duplicate-question API',
      version,
      description: 'Flags a new question as a duplicate of a stored one (siamese LSTM energies over an HNSW index, fused with BM25). Errors are JSON: {"error": {"code", "message"}}.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'questions', description: 'Search, store and remove questions.' },
      { name: 'model', description: 'Score a pair with the model.' },
      { name: 'feedback', description: 'Labelled pairs for training.' },
      { name: 'operations', description: 'Health, metrics and this document.' },
      { name: 'web', description: 'The web page.' },
    ],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (doppel keys create) or DOPPEL_API_KEY. Scopes: search (reads), write (also stores), admin (everything). Writes need one once the server has DOPPEL_API_KEY or any key; reads only with --require-key.',
        },
      },
      schemas,
    },
    paths,
  };
}
