import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpException, Inject } from '@nestjs/common';
import { TidemarkError } from '@tidemark/schemas';
import type { Logger } from 'pino';
import { DEFAULT_RETRY_AFTER_SECONDS, QueryError } from '../errors';
import { QUERY_LOGGER } from '../tokens';
import type { QueryRequest } from './request';

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

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

/** Maps what a request failed with to the answer; undefined for an unexpected error (a 500). */
export function mapKnownError(exception: unknown): ErrorAnswer | undefined {
  if (exception instanceof TidemarkError) {
    return {
      status: exception.status,
      code: exception.code,
      message: exception.message,
      retryable: exception.retryable,
      ...(exception.details ? { details: exception.details } : {}),
      headers: exception instanceof QueryError ? { ...exception.headers } : {},
    };
  }
  if (exception instanceof HttpException) {
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
  return undefined;
}

/** The one exception filter: every error becomes {error: {code, message, retryable, details?}}; no 500 for bad input. */
@Catch()
export class QueryExceptionFilter implements ExceptionFilter {
  constructor(@Inject(QUERY_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<ServerResponse>();
    const request = http.getRequest<QueryRequest>();
    let answer = mapKnownError(exception);
    if (answer) {
      if (answer.status >= 500) {
        this.logger.warn(
          { requestId: request.requestId, code: answer.code, details: answer.details, url: request.url },
          answer.message,
        );
      }
    } else {
      const errorId = randomUUID();
      this.logger.error(
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
      answer.headers['Retry-After'] = String(DEFAULT_RETRY_AFTER_SECONDS);
    }
    answeredCodes.set(response, answer.code);
    // The client went away (aborted wait): nobody to answer.
    if (response.headersSent || response.destroyed) {
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
    response.statusCode = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', Buffer.byteLength(body));
    response.end(body);
  }
}
