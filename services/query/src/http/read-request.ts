/**
 * What every read takes from the HTTP request: the Consistency-Token header and the `stale` and `wait`
 * parameters; the wait is aborted when the client goes away. And what every answer sends back.
 */
import { TidemarkError } from '@tidemark/schemas';
import type { ReadAnswer, ReadRequest } from '../consistent-reads';
import { answerHeaders } from '../consistent-reads';
import { INVALID_QUERY_PARAMETER } from '../errors';
import { MAX_QUERY_WAIT_TIMEOUT_MS } from '../options';
import type { QueryRequest, QueryResponse } from './request';
import { header } from './request';

/** The parameters every read accepts, whatever the query. */
export const READ_PARAMETERS: readonly string[] = ['stale', 'wait'];

/** The response body of every read: the document, the token of the view read, and `stale: true` if stale. */
export interface ReadBody<D> {
  data: D;
  token: string;
  stale?: true;
}

export function readRequest(request: QueryRequest, response: QueryResponse): ReadRequest {
  const controller = new AbortController();
  response.raw.once('close', () => {
    if (!response.raw.writableFinished) controller.abort();
  });
  const query = request.query ?? {};
  return {
    token: header(request, 'consistency-token'),
    stale: parseStale(query.stale),
    waitMs: parseWait(query.wait),
    signal: controller.signal,
  };
}

/** A document query takes no parameters of its own: anything besides stale and wait is a misspelling. */
export function refuseUnknownParameters(query: Record<string, unknown> | undefined): void {
  for (const name of Object.keys(query ?? {})) {
    if (!READ_PARAMETERS.includes(name)) {
      throw badParameter(name, `unknown parameter '${name}' (a read takes: ${READ_PARAMETERS.join(', ')})`);
    }
  }
}

export function send<D>(response: QueryResponse, answer: ReadAnswer<D>): ReadBody<D> {
  for (const [name, value] of Object.entries(answerHeaders(answer))) response.header(name, value);
  return { data: answer.data, token: answer.token, ...(answer.stale ? { stale: true as const } : {}) };
}

const badParameter = (name: string, message: string) =>
  new TidemarkError(INVALID_QUERY_PARAMETER, message, 400, false, { parameter: name });

function parseStale(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === 'ok' || value === 'true') return true;
  if (value === 'false') return false;
  throw badParameter('stale', 'stale must be "ok" (a possibly stale answer, marked stale) or left out');
}

function parseWait(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value) || Number(value) > MAX_QUERY_WAIT_TIMEOUT_MS) {
    throw badParameter(
      'wait',
      `wait must be a whole number of milliseconds up to ${MAX_QUERY_WAIT_TIMEOUT_MS}`,
    );
  }
  return Number(value);
}
