import { Controller, Get, Param, Req, Res, UseGuards } from '@nestjs/common';
import { INVALID_QUERY_PARAMETER, QueryError } from '../errors';
import { MAX_QUERY_WAIT_TIMEOUT_MS } from '../options';
import type { ReadAnswer, ReadRequest } from '../read.service';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { answerHeaders, ListingsReader } from '../read.service';
import { ReadScopeGuard } from './auth';
import type { QueryRequest, QueryResponse } from './request';
import { header } from './request';
import { parseSearchParams } from './search-params';

/** The response body of every read: the document, the token of the view read, and `stale: true` if stale. */
export interface ReadBody<D> {
  data: D;
  token: string;
  stale?: true;
}

@Controller('v1')
@UseGuards(ReadScopeGuard)
export class ListingsController {
  constructor(private readonly reader: ListingsReader) {}

  // Declared before listings/:id, which would otherwise take 'search' for an id.
  @Get('listings/search')
  async search(@Req() request: QueryRequest, @Res({ passthrough: true }) response: QueryResponse) {
    const params = parseSearchParams(request.query ?? {});
    return send(response, await this.reader.search(params, readRequest(request, response)));
  }

  @Get('listings/:id')
  async detail(
    @Param('id') id: string,
    @Req() request: QueryRequest,
    @Res({ passthrough: true }) response: QueryResponse,
  ) {
    return send(response, await this.reader.detail(id, readRequest(request, response)));
  }

  @Get('listings/:id/card')
  async card(
    @Param('id') id: string,
    @Req() request: QueryRequest,
    @Res({ passthrough: true }) response: QueryResponse,
  ) {
    return send(response, await this.reader.card(id, readRequest(request, response)));
  }

  @Get('sellers/:id/stats')
  async sellerStats(
    @Param('id') id: string,
    @Req() request: QueryRequest,
    @Res({ passthrough: true }) response: QueryResponse,
  ) {
    return send(response, await this.reader.sellerStats(id, readRequest(request, response)));
  }
}

function send<D>(response: QueryResponse, answer: ReadAnswer<D>): ReadBody<D> {
  for (const [name, value] of Object.entries(answerHeaders(answer))) response.header(name, value);
  return { data: answer.data, token: answer.token, ...(answer.stale ? { stale: true as const } : {}) };
}

/** Reads the token header and the query parameters; the wait is aborted when the client goes away. */
function readRequest(request: QueryRequest, response: QueryResponse): ReadRequest {
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

const badParameter = (name: string, message: string) =>
  new QueryError(INVALID_QUERY_PARAMETER, message, 400, false, { parameter: name });

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
