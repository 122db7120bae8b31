/**
 * Every shape the HTTP API reads or writes, as zod schemas. They are the single source: app.ts
 * parses requests with them and types its responses by them, and openapi.ts generates the OpenAPI
 * document from them (z.toJSONSchema), so the document cannot drift from what the server does.
 * test/openapi.test.ts checks real responses against the generated document.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { SEARCH_MODES } from '../search/backend.js';
import { REVIEW_DECISIONS } from '../search/review.js';
import { OPERATING_POINTS } from '../verdict/operating-points.js';
import { characterProblem, MAX_METADATA_BYTES, MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MAX_URL_LENGTH, metadataProblem, urlProblem } from '../text/validate.js';

// ---------------------------------------------------------------- requests

/** The same character rule as files and the library (text/validate.ts), with its own message. */
const wellFormed = (value: string, ctx: z.RefinementCtx) => {
  const problem = characterProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.replace(/^contains/, 'must not contain').replace(/^is not/, 'must be') });
};

const text = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`)
  .superRefine(wellFormed)
  .describe(`A question text: 1 to ${MAX_TEXT_LENGTH} characters once leading and trailing white space is trimmed, well-formed Unicode with no NUL character.`);
const k = z.number().int().min(1).max(100).describe('How many matches to return.');
/** An id or category: the same rule as files and the library (text/validate.ts). */
const name = () =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
    .superRefine(wellFormed);
/** The id of a stored question, as a path parameter or a field naming one: never trimmed, as ids are matched exactly. */
const storedId = z.string().min(1, 'must not be empty').max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`).superRefine(wellFormed);
const category = name().describe('Only questions stored with this category.');

const explain = z.boolean().optional().describe('Also say why: the word pairs that carry the similarity and the verdict inputs that moved it (slower).');

/** How a request picks which matches are called duplicates; the server's default point otherwise. */
const operatingPoint = z.enum(OPERATING_POINTS).optional().describe("A named threshold on the probability, chosen on validation when the model was fit: precise (precision >= 0.90), balanced (best F1) or recall (recall >= 0.90). Default: the server's (--operating-point, precise unless set).");
const minProbability = z.number().min(0).max(1).optional().describe('A probability threshold of your own: matches at or above it are duplicates. Overrides operatingPoint.');
const decisionFields = { operatingPoint, minProbability };

export const DuplicatesBody = z
  .strictObject({
    text,
    k: k.optional().describe('How many matches to return (default 5).'),
    category: category.optional(),
    mode: z
      .enum(SEARCH_MODES)
      .optional()
      .describe('dense: LSTM energies over the HNSW graph; lexical: BM25; hybrid (default): both, fused.'),
    explain,
    ...decisionFields,
  })
  .describe('A text to check against the stored questions.');

/** A problem from text/validate.ts as a zod issue: the API and the library refuse the same values, with the same words. */
const problemOf = (check: (v: never) => string | undefined) => (value: unknown, ctx: z.RefinementCtx) => {
  const problem = check(value as never);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.replace(/^(url|metadata) /, '') });
};
const url = z
  .string()
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .superRefine(problemOf(urlProblem))
  .describe("Where the question lives on the forum (an absolute http or https URL): the link a suggestion shows.");
const metadata = z
  .record(z.string(), z.unknown())
  .superRefine(problemOf(metadataProblem))
  .describe(`A small JSON object kept with the question and returned as stored (at most ${MAX_METADATA_BYTES} bytes as JSON): the forum's own fields.`);
const questionFields = {
  category: name().optional().describe('A category, to filter searches by.'),
  url: url.optional(),
  metadata: metadata.optional(),
};

export const QuestionBody = z
  .strictObject({
    id: name().optional().describe('The id to store the question under; a random UUID when left out.'),
    text,
    ...questionFields,
    ...decisionFields,
  })
  .describe('A question to store and index.');

export const QuestionReplaceBody = z
  .strictObject({ text, ...questionFields })
  .describe('The question to keep under this id, whole: fields left out are cleared. Re-encoded only when the text changes.');

export const QuestionPatchBody = z
  .strictObject({
    category: name().nullable().optional().describe('A new category; null clears it.'),
    url: url.nullable().optional().describe('A new url; null clears it.'),
    metadata: metadata.nullable().optional().describe('New metadata, replacing the old whole; null clears it.'),
  })
  .refine((p) => p.category !== undefined || p.url !== undefined || p.metadata !== undefined, { message: 'give category, url or metadata' })
  .describe("Changes to a stored question's category, url or metadata; its text and vector stay as they are.");

/** One line of a bulk upload: a question with its id, as PUT /v1/questions/{id} takes it. */
export const BulkLine = z
  .strictObject({ id: name().describe('The id to store the question under.'), text, ...questionFields })
  .describe('One line of a bulk upload (NDJSON): a question to create or replace under its id.');

export const ListQuery = z.strictObject({
  after: z.string().max(MAX_NAME_LENGTH).optional().describe("Continue after this id: the previous page's `next`. Left out: from the start."),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('Questions per page (default 100).'),
});

export const SimilarityBody = z.strictObject({ a: text, b: text, explain, ...decisionFields }).describe('Two texts to compare.');

export const FeedbackBody = z
  .strictObject({
    a: text.optional().describe('The first question, as text.'),
    b: text.optional().describe('The second question, as text.'),
    aId: storedId.optional().describe('The first question, as the id of a stored question.'),
    bId: storedId.optional().describe('The second question, as the id of a stored question.'),
    isDuplicate: z.boolean().describe('The verdict: whether the two ask the same thing.'),
  })
  .refine((f) => (f.a === undefined) !== (f.aId === undefined) && (f.b === undefined) !== (f.bId === undefined), {
    message: 'give each side as text (a, b) or as a stored question id (aId, bId), not both',
  })
  .describe("A moderator's verdict on a pair, kept as training data. Give each side either as text (a, b) or as a stored question id (aId, bId), not both.");

export const SuggestQuery = z.strictObject({
  q: z
    .string()
    .max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`)
    .describe('The title typed so far; its last word is read as a prefix. Under 2 characters gives no suggestions.'),
  k: z.coerce.number().int().min(1).max(20).optional().describe('How many suggestions to return (default 5).'),
  category: category.optional(),
  operatingPoint,
  // An empty parameter is no choice, not 0.
  minProbability: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().min(0).max(1).optional()).describe(minProbability.description!),
});

export const QuestionParams = z.strictObject({
  id: storedId.describe('The id of a stored question.'),
});

// ---------------------------------------------------------------- responses

/** The codes an error response can carry: the catalogue in errors.ts (INTERNAL also for a 500 nobody raised on purpose). */
export const API_ERROR_CODES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const ErrorResponse = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(API_ERROR_CODES).describe('A stable, machine-readable code.'),
      message: z.string().describe('What went wrong, for people.'),
    }),
  })
  .describe('Every 4xx and 5xx answer has this body.');

const energy = z.number().describe("The energy of the pair, low means alike: the deciding tower's (with an ensemble model, the classifier's). It breaks ties of probability.");
const probability = z.number().min(0).max(1).describe('The calibrated probability that the pair are duplicates; matches come in its order, highest first.');
const isDuplicate = z.boolean().describe("The decision: probability at or above the decision's threshold.");

export const Decision = z
  .strictObject({
    threshold: z.number().min(0).max(1).describe('The probability at or above which a match is a duplicate, as applied to this answer.'),
    operatingPoint: z.enum([...OPERATING_POINTS, 'custom']).describe("The named point the threshold is (custom: the request's minProbability)."),
    decidedBy: z.enum(['verdict', 'energy']).describe('What gave the probability: the verdict stage (energy and the words), or the energy alone (no verdict stage, or a text without words).'),
  })
  .describe('What decided the answer.');
const nullableCategory = z.string().nullable().describe('The category, or null when stored without one.');

export const Explanation = z
  .strictObject({
    alignment: z
      .strictObject({
        wordsA: z.array(z.string()).describe("The first text's words, as the encoder reads them."),
        wordsB: z.array(z.string()).describe("The second text's words."),
        cosine: z.number().describe('The cosine of the two embeddings, which the pairs split.'),
        pairs: z
          .array(
            z.strictObject({
              a: z.string(),
              b: z.string(),
              aIndex: z.number().int().describe('Position in wordsA.'),
              bIndex: z.number().int().describe('Position in wordsB.'),
              share: z.number().describe('This pair\'s part of the cosine.'),
            }),
          )
          .describe('The word pairs carrying the most similarity, largest first.'),
      })
      .optional()
      .describe('Absent when the encoder is not max-pooled.'),
    summary: z.string().describe("One plain sentence: what the two share, or what differs (\"Differs: 'java' vs 'python'.\")."),
    reasons: z
      .array(
        z.strictObject({
          feature: z.string().describe('The input, as the model names it.'),
          label: z.string().describe('The input, as people read it.'),
          value: z.number(),
          contribution: z.number().describe('Log-odds it added (+: towards duplicate).'),
        }),
      )
      .optional()
      .describe("The verdict stage's inputs, largest effect first (absent without a verdict stage)."),
    baseline: z.number().optional().describe('The log-odds of an average pair, which the reasons move.'),
    rule: z.literal('identical-text').optional().describe('Set when a rule decided: the texts are the same question once normalised.'),
  })
  .describe('Why the verdict is what it is.');

const nullableUrl = z.string().nullable().describe('Where the question lives, or null when stored without a url.');
const nullableMetadata = z.record(z.string(), z.unknown()).nullable().describe('The metadata as stored, or null.');

export const Match = z
  .strictObject({
    id: z.string().describe('The id of the stored question.'),
    text: z.string().describe('Its text.'),
    category: nullableCategory,
    url: nullableUrl,
    metadata: nullableMetadata,
    energy,
    probability,
    isDuplicate,
    explanation: Explanation.optional().describe('With explain: true, on the first 5 matches.'),
  })
  .describe('A stored question and how close it is to the query.');

export const DuplicatesResponse = z
  .strictObject({
    isDuplicate: z.boolean().describe('Whether any match is a duplicate.'),
    decision: Decision,
    matches: z.array(Match).describe('The closest stored questions, highest probability first.'),
  })
  .describe('The stored questions that duplicate the text.');

export const QuestionCreated = z
  .strictObject({
    id: z.string().describe('The id the question is stored under.'),
    duplicates: z.array(Match).describe('The stored questions it duplicated before it was added, highest probability first.'),
    decision: Decision,
  })
  .describe('The question was stored and indexed.');

export const Question = z
  .strictObject({
    id: z.string(),
    text: z.string(),
    category: nullableCategory,
    url: nullableUrl,
    metadata: nullableMetadata,
    createdAt: z.iso.datetime().describe('When it was first stored (ISO 8601, UTC); a replaced text keeps it.'),
  })
  .describe('A stored question.');

const upsertResult = z
  .enum(['created', 'replaced', 'updated', 'unchanged'])
  .describe('created: new; replaced: its text changed (re-encoded); updated: only category, url or metadata changed; unchanged: it was stored as sent.');

export const QuestionStored = z
  .strictObject({ result: upsertResult, question: Question })
  .describe('The question as stored under its id, and what the request changed.');

export const QuestionList = z
  .strictObject({
    questions: z.array(Question).describe('Live questions in id order (byte order of the UTF-8 ids).'),
    next: z.string().nullable().describe('The `after` of the next page; null on the last page.'),
  })
  .describe('A page of the stored questions.');

export const BulkResultLine = z
  .union([
    z.strictObject({
      line: z.number().int().min(1).describe('The input line, from 1.'),
      id: z.string(),
      result: z.enum([...upsertResult.options, 'superseded']).describe(`${upsertResult.description} superseded: a later line of the same upload has this id, and it is what is stored.`),
    }),
    z.strictObject({
      line: z.number().int().min(1),
      id: z.string().optional().describe("The line's id, when it could be read."),
      error: z.strictObject({ code: z.enum(API_ERROR_CODES), message: z.string() }).describe('Why this line was not stored; the other lines go on.'),
    }),
  ])
  .describe('One answer line of a bulk upload (NDJSON), in input order: what was done with the line, or why not. A line is answered only once it is durable.');

export const QuestionDeleted = z
  .strictObject({ id: z.string().describe('The id of the removed question.'), deleted: z.literal(true) })
  .describe('The question was removed from the store and the index.');

export const SimilarityResponse = z
  .strictObject({ energy, probability, isDuplicate, decision: Decision, explanation: Explanation.optional().describe('With explain: true.') })
  .describe('How alike the two texts are.');

export const SuggestResponse = z
  .strictObject({ suggestions: z.array(Match).describe('Similar stored questions, highest probability first.'), decision: Decision })
  .describe('Stored questions similar to the title typed so far.');

export const FeedbackCreated = z
  .strictObject({ id: z.number().int().describe('The id of the stored feedback pair.') })
  .describe('The verdict was stored.');

export const Health = z
  .strictObject({
    status: z.literal('ok'),
    questions: z.number().int().min(0).describe('Questions in the vector index.'),
    model: z.string().describe('The id of the model in use.'),
    encoder: z.string().describe('The inference runtime of the encoder.'),
  })
  .describe('The server is up.');

const point = z.strictObject({
  threshold: z.number().min(0).max(1),
  precision: z.number().nullable().describe('On the validation clusters when the model was fit (null: not recorded).'),
  recall: z.number().nullable(),
});

export const ActivationStatus = z
  .strictObject({
    state: z.enum(['encoding', 'switching', 'done', 'failed']).describe('encoding: the stored questions are encoded with the new model while the current one answers; switching: requests wait a moment; done: the new model serves; failed: the current model kept serving.'),
    from: z.string().describe('The model that served when it started.'),
    to: z.string().describe('The model being put into service.'),
    dir: z.string().describe('Its directory on the server.'),
    staged: z.number().int().min(0).describe('Stored questions encoded with the new model so far.'),
    total: z.number().int().min(0),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
  })
  .describe('A model activation: progress, then its outcome.');

export const ModelActivateBody = z.strictObject({ model: z.string().min(1).max(4096).describe('A model directory on the server (doppel train --out).') }).describe('The model to put into service.');

export const ModelInfo = z
  .strictObject({
    id: z.string().describe('The id of the model in use.'),
    energy: z.enum(['euclidean', 'cosine', 'manhattan']),
    encoder: z.string().describe('The inference runtime of the encoder.'),
    verdict: z.boolean().describe('Whether a verdict stage decides (else the energy alone).'),
    operatingPoints: z.strictObject({ precise: point, balanced: point, recall: point }).describe('The named thresholds a request may choose.'),
    defaultOperatingPoint: z.enum(OPERATING_POINTS).describe("This server's default."),
    dir: z.string().nullable().describe('The directory the store records for it (null: not recorded).'),
    previous: z.strictObject({ id: z.string(), dir: z.string().nullable() }).nullable().describe('The model it replaced: what POST /v1/model/rollback returns to (null: none).'),
    activation: ActivationStatus.nullable().describe('The last model activation of this server (null: none since it started).'),
  })
  .describe('The model serving, and its operating points.');

export const ReviewQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional().describe('Pairs to return, most informative first (default 20).'),
});

export const ReviewParams = z.strictObject({ id: z.coerce.number().int().min(1).describe('The review item, as GET /v1/review lists it.') });

export const ReviewDecisionBody = z
  .strictObject({ decision: z.enum(REVIEW_DECISIONS).describe('duplicate and different are kept as feedback (training pairs); skip closes the item and keeps nothing.') })
  .describe("A moderator's decision on a queued pair.");

const reviewSide = z.strictObject({
  id: z.string().nullable().describe('The stored question, or null for a text that was only checked.'),
  text: z.string(),
});

export const ReviewItem = z
  .strictObject({
    id: z.number().int(),
    a: reviewSide.describe('The new or checked question.'),
    b: reviewSide.describe('Its best match among the stored questions.'),
    probability: z.number().min(0).max(1).describe("The model's probability that the two are duplicates, when it last saw them."),
    priority: z.number().min(0).describe("Distance from the decision threshold in log-odds: the queue serves the smallest first."),
    copies: z.number().int().min(1).describe('How often the pair, or a near-copy of it, was queued.'),
    createdAt: z.string(),
    status: z.enum(['pending', ...REVIEW_DECISIONS]),
    reviewer: z.string().nullable().describe("The name of the key that decided it."),
    decidedAt: z.string().nullable(),
    feedbackId: z.number().int().nullable().describe('The feedback pair the decision was kept as (null: pending or skipped).'),
  })
  .describe('A pair the model was unsure of.');

export const ReviewPage = z
  .strictObject({
    items: z.array(ReviewItem).describe('Pending pairs, the most informative first.'),
    pending: z.number().int().min(0),
    decided: z.strictObject({ duplicate: z.number().int(), different: z.number().int(), skip: z.number().int() }),
    agreed: z.number().int().min(0).describe('Decisions (duplicate or different) on whose side the model was when it queued the pair.'),
    model: z
      .strictObject({
        id: z.string(),
        refit: z
          .strictObject({
            pairs: z.number().int().describe('Reviewed pairs the serving model was refit on (doppel fit-verdict --feedback).'),
            createdAt: z.string(),
            before: z.strictObject({ accuracy: z.number(), precision: z.number(), recall: z.number() }).describe('The model it replaced, on those pairs.'),
            after: z.strictObject({ accuracy: z.number(), precision: z.number(), recall: z.number() }).describe('The refit, cross-validated on those pairs.'),
          })
          .nullable()
          .describe('What the reviews did to the serving model; null when it was never refit on them.'),
      })
      .describe('The model serving.'),
  })
  .describe('The review queue.');

export const OpenApiDocument = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .describe('The OpenAPI 3.1 document of this API.');

/** Prometheus text exposition format. */
export const MetricsText = z.string().describe('Metrics in the Prometheus text format.');

/** The web page. */
export const Html = z.string().describe('An HTML page.');

/** A script the server serves (the widget, the client). */
export const Script = z.string().describe('JavaScript source.');

/** One readable sentence from a zod error: "text: must not be empty; k: ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
