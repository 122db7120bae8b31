import { MAX_TEXT_LENGTH } from '../text/validate.js';

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const body = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const text = { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH };
const writeErrors = { '400': errorResponse('Invalid body'), '401': errorResponse('Missing or wrong API key'), '413': errorResponse('Body too large'), '415': errorResponse('Not JSON'), '429': errorResponse('Rate limited') };
const readErrors = { '400': errorResponse('Invalid body'), '413': errorResponse('Body too large'), '415': errorResponse('Not JSON'), '429': errorResponse('Rate limited') };

/** The OpenAPI 3 description of the routes in app.ts (test/service.test.ts checks they match). */
export function openApiDocument(version: string) {
  return {
    openapi: '3.0.3',
    info: { title: 'Doppel duplicate-question API', version, description: 'Flags a new question as a duplicate of a stored one (siamese LSTM energies over an HNSW index, fused with BM25).' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required on write requests when the server has DOPPEL_API_KEY set.' } },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
        Match: {
          type: 'object',
          required: ['id', 'text', 'energy', 'probability', 'isDuplicate'],
          properties: { id: { type: 'string' }, text: { type: 'string' }, category: { type: 'string', nullable: true }, energy: { type: 'number' }, probability: { type: 'number' }, isDuplicate: { type: 'boolean' } },
        },
        Question: { type: 'object', required: ['id', 'text'], properties: { id: { type: 'string' }, text: { type: 'string' }, category: { type: 'string', nullable: true }, createdAt: { type: 'string' } } },
      },
    },
    paths: {
      '/v1/duplicates': {
        post: {
          summary: 'Stored questions that duplicate a text',
          requestBody: body({ type: 'object', required: ['text'], additionalProperties: false, properties: { text, k: { type: 'integer', minimum: 1, maximum: 100 }, category: { type: 'string' }, mode: { type: 'string', enum: ['dense', 'lexical', 'hybrid'] } } }),
          responses: { '200': json({ type: 'object', properties: { isDuplicate: { type: 'boolean' }, threshold: { type: 'number' }, matches: { type: 'array', items: ref('Match') } } }), ...readErrors },
        },
      },
      '/v1/questions': {
        post: {
          summary: 'Store and index a question; returns the duplicates it had before insertion',
          security: [{ bearer: [] }],
          requestBody: body({ type: 'object', required: ['text'], additionalProperties: false, properties: { id: { type: 'string' }, text, category: { type: 'string' } } }),
          responses: { '201': json({ type: 'object', properties: { id: { type: 'string' }, duplicates: { type: 'array', items: ref('Match') } } }, 'Created'), '409': errorResponse('Id exists'), ...writeErrors },
        },
      },
      '/v1/questions/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: { summary: 'A stored question', responses: { '200': json(ref('Question')), '404': errorResponse('Unknown id') } },
        delete: { summary: 'Remove a question', security: [{ bearer: [] }], responses: { '200': json({ type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } } }), '401': errorResponse('Missing or wrong API key'), '404': errorResponse('Unknown id') } },
      },
      '/v1/similarity': {
        post: {
          summary: 'Energy, probability and verdict for two texts',
          requestBody: body({ type: 'object', required: ['a', 'b'], additionalProperties: false, properties: { a: text, b: text } }),
          responses: { '200': json({ type: 'object', properties: { energy: { type: 'number' }, probability: { type: 'number' }, isDuplicate: { type: 'boolean' } } }), ...readErrors },
        },
      },
      '/v1/suggest': {
        get: {
          summary: 'Similar questions for a title being typed',
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: MAX_TEXT_LENGTH } },
            { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 20, default: 5 } },
            { name: 'category', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': json({ type: 'object', properties: { suggestions: { type: 'array', items: ref('Match') } } }), '400': errorResponse('Invalid query'), '429': errorResponse('Rate limited') },
        },
      },
      '/v1/feedback': {
        post: {
          summary: "A moderator's verdict on a pair (texts or stored ids), kept as training data",
          security: [{ bearer: [] }],
          requestBody: body({ type: 'object', required: ['isDuplicate'], properties: { a: text, b: text, aId: { type: 'string' }, bId: { type: 'string' }, isDuplicate: { type: 'boolean' } } }),
          responses: { '201': json({ type: 'object', properties: { id: { type: 'integer' } } }, 'Stored'), '404': errorResponse('Unknown question id'), ...writeErrors },
        },
      },
      '/healthz': { get: { summary: 'Liveness and index size', responses: { '200': json({ type: 'object', properties: { status: { type: 'string' }, questions: { type: 'integer' } } }) } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': json({ type: 'object' }) } } },
    },
  };
}
