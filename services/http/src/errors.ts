/**
 * The error side of every Tidemark HTTP service (gateway, query API, admin API): one body shape
 * `{error: {code, message, retryable, details?}}` for a TidemarkError (with its response headers), stable codes
 * for what Nest and the body parser raise, a 500 with an error id (logged with the cause) for anything
 * unexpected, and the code each response carried for the request log line. The exception filter
 * (exception-filter.ts) maps with answerOf, then writes with answerError.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ArgumentsHost } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import { TidemarkError } from '@tidemark/schemas';
import type { Logger } from 'pino';

/** Seconds a client should wait before retrying a retryable 429/503 that named none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
  headers: Record<string, string>;
}

/** The error code each answered response carried, for the request log line. */
export const answeredCodes = new WeakMap<ServerResponse, string>();

/** The parts of a Fastify reply the error answer uses (no fastify import needed here). */
export interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string | number): FastifyReplyLike;
  send(body: string): unknown;
}

function isFastifyReply(response: unknown): response is FastifyReplyLike {
  const candidate = response as Partial<FastifyReplyLike> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.send === 'function' &&
    typeof candidate.code === 'function' &&
    typeof candidate.raw === 'object'
  );
}

/** The Node response under an express response (itself) or a Fastify reply (its raw response). */
export function nodeResponse(response: ServerResponse | FastifyReplyLike): ServerResponse {
  return isFastifyReply(response) ? response.raw : response;
}

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

/** A Nest HttpException below 500 (routing, guards) as an answer; undefined otherwise. */
export function answerFromHttpException(exception: unknown): ErrorAnswer | undefined {
  if (!(exception instanceof HttpException)) return undefined;
  const status = exception.getStatus();
  if (status >= 500) return undefined;
  return {
    status,
    code: HTTP_CODES[status] ?? `HTTP_${status}`,
    message: exception.message,
    retryable: status === 408 || status === 429,
    headers: {},
  };
}

/**
 * What a body parser throws for a body it refuses, as body-parser (express) names it: its `type` and 4xx
 * status. Fastify's content-type parser errors (FST_ERR_CTP_*) are translated to the same types, and an
 * unsupported content type is `media.unsupported`.
 */
export interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}

const FASTIFY_BODY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'entity.too.large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'entity.parse.failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'entity.parse.failed',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'media.unsupported',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.size.invalid',
};

/** A refused request body as the answer: 413, 400 MALFORMED_JSON, 415, or 400 BAD_REQUEST naming the reason. */
export function answerFromBodyParserError(parser: BodyParserError, maxBodyBytes?: number): ErrorAnswer {
  const refused = (status: number, code: string, message: string, details?: Record<string, unknown>) => ({
    status,
    code,
    message,
    retryable: false,
    ...(details ? { details } : {}),
    headers: {},
  });
  switch (parser.type) {
    case 'entity.too.large': {
      const limit = parser.limit ?? maxBodyBytes;
      return refused(
        413,
        'PAYLOAD_TOO_LARGE',
        'the request body is too large',
        typeof limit === 'number' ? { limitBytes: limit } : undefined,
      );
    }
    case 'entity.parse.failed':
      return refused(400, 'MALFORMED_JSON', 'the request body is not valid JSON');
    case 'media.unsupported':
      return refused(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return refused(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body encoding or charset is not supported');
    default:
      return refused(400, 'BAD_REQUEST', 'the request body could not be read', { reason: parser.type });
  }
}

/** A TidemarkError as the answer, with its response headers. */
export function answerFromTidemarkError(error: TidemarkError): ErrorAnswer {
  return {
    status: error.status,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.details ? { details: error.details } : {}),
    headers: { ...error.headers },
  };
}

/**
 * What a request failed with as the answer; undefined for an unexpected error (a 500). A TidemarkError (with its
 * headers), a refused body (also when it is the cause of what Nest threw), a Nest HttpException below 500.
 */
export function answerOf(exception: unknown, maxBodyBytes?: number): ErrorAnswer | undefined {
  if (exception instanceof TidemarkError) return answerFromTidemarkError(exception);
  const parser =
    bodyParserError(exception) ?? bodyParserError(exception instanceof Error ? exception.cause : undefined);
  if (parser) return answerFromBodyParserError(parser, maxBodyBytes);
  return answerFromHttpException(exception);
}

export function bodyParserError(error: unknown): BodyParserError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const candidate = error as {
    type?: unknown;
    code?: unknown;
    status?: unknown;
    statusCode?: unknown;
    limit?: unknown;
  };
  const status = candidate.status ?? candidate.statusCode;
  const fastifyType = typeof candidate.code === 'string' ? FASTIFY_BODY_ERRORS[candidate.code] : undefined;
  if (fastifyType && typeof status === 'number') return { type: fastifyType, status };
  if (typeof candidate.type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    return {
      type: candidate.type,
      status,
      ...(typeof candidate.limit === 'number' ? { limit: candidate.limit } : {}),
    };
  }
  return undefined;
}

/**
 * Writes the answer (or, for an unexpected exception, a logged 500 with an error id). A retryable 429/503 gets
 * a Retry-After if it has none. A response already under way (a client that went away mid-wait) is destroyed.
 */
export function answerError(
  host: ArgumentsHost,
  known: ErrorAnswer | undefined,
  exception: unknown,
  logger: Logger,
  retryAfterSeconds: number = DEFAULT_RETRY_AFTER_SECONDS,
): void {
  const http = host.switchToHttp();
  const reply = http.getResponse<ServerResponse | FastifyReplyLike>();
  const response = nodeResponse(reply);
  const request = http.getRequest<{ requestId?: string; method?: string; url?: string }>();
  let answer: ErrorAnswer;
  if (known) {
    answer = { ...known, headers: { ...known.headers } };
    if (answer.status >= 500) {
      logger.warn(
        { requestId: request.requestId, code: answer.code, details: answer.details, url: request.url },
        answer.message,
      );
    }
  } else {
    const errorId = randomUUID();
    logger.error(
      { err: exception, errorId, requestId: request.requestId, method: request.method, url: request.url },
      'unexpected error while handling a request',
    );
    answer = {
      status: 500,
      code: 'INTERNAL',
      message: `internal error (id ${errorId})`,
      retryable: true,
      details: { errorId },
      headers: {},
    };
  }
  if (
    (answer.status === 429 || answer.status === 503) &&
    answer.retryable &&
    !answer.headers['Retry-After']
  ) {
    answer.headers['Retry-After'] = String(retryAfterSeconds);
  }
  answeredCodes.set(response, answer.code);
  if (response.headersSent || response.destroyed || (isFastifyReply(reply) && reply.sent)) {
    response.destroy();
    return;
  }
  const body = JSON.stringify({
    error: {
      code: answer.code,
      message: answer.message,
      retryable: answer.retryable,
      ...(answer.details ? { details: answer.details } : {}),
    },
  });
  if (isFastifyReply(reply)) {
    reply.code(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    reply.header('Content-Type', 'application/json; charset=utf-8');
    reply.send(body);
    return;
  }
  response.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(body);
}
