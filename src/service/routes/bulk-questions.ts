import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { DoppelError, type ErrorCode } from '../../errors.js';
import type { UpsertOutcome } from '../../search/backend.js';
import { sendError } from '../http.js';
import { BulkLine, type BulkResultLine, describeIssues } from '../schemas.js';
import type { RouteContext } from './context.js';

/** Lines a request may hold, and bytes a line: an archive goes in several requests. */
export const MAX_BULK_LINES = 100_000;
export const MAX_BULK_LINE_BYTES = 64 * 1024;
/** Questions written (and encoded) together: one transaction, then their answer lines. */
const BATCH = 256;
/**
 * Bytes of read lines that may wait for the writer: reading pauses past it (a bound on memory).
 * High enough that an upload of ordinary size is read whole at once, so the request's own
 * timeout (it must arrive within 30 s) is not spent waiting for the encoder.
 */
const QUEUED_BYTES = 16 * 1024 * 1024;

type Item = { line: number; bytes: number; id?: string; question?: z.output<typeof BulkLine>; error?: { code: ErrorCode; message: string } };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One NDJSON line read as a question, or why it cannot be. */
function readLine(line: number, raw: Buffer): Item | undefined {
  const bytes = raw.length;
  if (bytes > MAX_BULK_LINE_BYTES) return { line, bytes: 0, error: { code: 'PAYLOAD_TOO_LARGE', message: `line longer than ${MAX_BULK_LINE_BYTES} bytes` } };
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { line, bytes, error: { code: 'INVALID_INPUT', message: 'line is not valid UTF-8' } };
  }
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, bytes, error: { code: 'INVALID_INPUT', message: 'line is not valid JSON' } };
  }
  const id = typeof (value as { id?: unknown })?.id === 'string' ? (value as { id: string }).id : undefined;
  const parsed = BulkLine.safeParse(value);
  return parsed.success ? { line, bytes, id: parsed.data.id, question: parsed.data } : { line, bytes, id, error: { code: 'INVALID_INPUT', message: describeIssues(parsed.error) } };
}

/** Resolves on the emitter's first `events` event. */
const first = (emitter: NodeJS.EventEmitter, events: string[]) =>
  new Promise<void>((resolve) => {
    const done = () => {
      for (const e of events) emitter.off(e, done);
      resolve();
    };
    for (const e of events) emitter.on(e, done);
  });

/**
 * POST /v1/questions/bulk: NDJSON in, NDJSON out. The body is read as it arrives (so a long
 * upload is never cut by the request timeout while questions are encoded); questions are stored
 * in batches, and a batch's answer lines are written only once it is durable, in input order:
 * a line answered is a line kept, whatever happens to the process after. A bad line is answered
 * with its error and the rest go on; blank lines are skipped.
 */
export function bulkQuestionsRoute(app: Express, { index, authorize, log }: RouteContext): void {
  app.post('/v1/questions/bulk', authorize('write'), async (req: Request, res: Response) => {
    if (!req.is(['application/x-ndjson', 'application/jsonl'])) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/x-ndjson: one JSON question a line');
    const queue: Item[] = [];
    let queued = 0;
    let reading = true;
    let gone = false;
    // The reader and the writer wake each other: new lines, or room for more.
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const free = () => {
      room?.();
      room = undefined;
    };
    res.on('close', () => {
      gone = true;
      notify();
      free();
    });
    const read = (async () => {
      let carry: Buffer[] = [];
      let carried = 0;
      let line = 0;
      const take = (bytes: Buffer) => {
        line++;
        if (line > MAX_BULK_LINES) throw new DoppelError('PAYLOAD_TOO_LARGE', `more than ${MAX_BULK_LINES} lines: send the rest in another request`);
        const item = readLine(line, bytes);
        if (item) {
          queue.push(item);
          queued += item.bytes;
        }
      };
      try {
        for await (const chunk of req as AsyncIterable<Buffer>) {
          let start = 0;
          for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
            const piece = chunk.subarray(start, nl);
            take(carried === 0 ? piece : Buffer.concat([...carry, piece]));
            carry = [];
            carried = 0;
            start = nl + 1;
          }
          // A line too long to keep is still counted (and answered) once it ends: only its length is kept.
          if (carried <= MAX_BULK_LINE_BYTES) {
            carry.push(chunk.subarray(start));
            carried += chunk.length - start;
          }
          notify();
          while (queued > QUEUED_BYTES && !gone) await new Promise<void>((resolve) => (room = resolve));
          if (gone) return;
        }
        if (carried > 0) take(Buffer.concat(carry));
      } catch (err) {
        queue.push({ line, bytes: 0, error: err instanceof DoppelError ? { code: err.code, message: err.message } : { code: 'INVALID_INPUT', message: 'the body could not be read' } });
      } finally {
        reading = false;
        notify();
      }
    })();
    res.status(200).type('application/x-ndjson');
    const answer = async (lines: z.output<typeof BulkResultLine>[]) => {
      if (lines.length > 0 && !res.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n')) await first(res, ['drain', 'close']);
    };
    while ((reading || queue.length > 0) && !gone) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const items = queue.splice(0, BATCH);
      for (const item of items) queued -= item.bytes;
      free();
      const valid = items.filter((i) => i.question);
      let outcomes: UpsertOutcome[];
      try {
        outcomes = valid.length > 0 ? await index.upsert(valid.map((i) => i.question!)) : [];
      } catch (err) {
        log.error({ err }, 'bulk upload: a batch could not be stored');
        const error = err instanceof DoppelError ? { code: err.code, message: err.message } : { code: 'INTERNAL' as const, message: 'internal error' };
        outcomes = valid.map((i) => ({ id: i.id!, error }));
      }
      const byItem = new Map(valid.map((item, k) => [item, outcomes[k]]));
      await answer(
        items.map((item) => {
          const outcome = byItem.get(item);
          if (!outcome) return { line: item.line, ...(item.id !== undefined ? { id: item.id } : {}), error: item.error! };
          return 'error' in outcome ? { line: item.line, id: outcome.id, error: outcome.error } : { line: item.line, id: outcome.id, result: outcome.result };
        }),
      );
    }
    await read;
    res.end();
  });
}
