import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpException, Inject } from '@nestjs/common';
import { ControlConflictError } from '@tidemark/projection-runtime';
import { TidemarkError } from '@tidemark/schemas';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { fromControlError } from '../projection-ops/errors';
import { AdminError } from './errors';
import type { AdminRequest } from './request';
import { ADMIN_LOGGER } from './tokens';

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

function bodyParserError(error: unknown): { type: string; status: number } | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const candidate = error as { type?: unknown; status?: unknown; statusCode?: unknown };
  const status = candidate.status ?? candidate.statusCode;
  if (typeof candidate.type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    return { type: candidate.type, status };
  }
  return undefined;
}

/** Maps what a request failed with to the answer; undefined for an unexpected error (a 500). */
export function mapAdminError(exception: unknown): ErrorAnswer | undefined {
  const error = exception instanceof ControlConflictError ? fromControlError(exception) : exception;
  if (error instanceof TidemarkError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      ...(error.details ? { details: error.details } : {}),
      headers: error instanceof AdminError ? { ...error.headers } : {},
    };
  }
  if (error instanceof ZodError) {
    return {
      status: 400,
      code: 'INVALID_REQUEST',
      message: `the request is not valid: ${error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ')}`,
      retryable: false,
      details: { issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      headers: {},
    };
  }
  const parser = bodyParserError(error) ?? bodyParserError(error instanceof Error ? error.cause : undefined);
  if (parser) {
    if (parser.type === 'entity.too.large') {
      return {
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: 'the request body is too large',
        retryable: false,
        headers: {},
      };
    }
    if (parser.type === 'entity.parse.failed') {
      return {
        status: 400,
        code: 'MALFORMED_JSON',
        message: 'the request body is not valid JSON',
        retryable: false,
        headers: {},
      };
    }
    return {
      status: 400,
      code: 'BAD_REQUEST',
      message: 'the request body could not be read',
      retryable: false,
      details: { reason: parser.type },
      headers: {},
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status >= 500) return undefined;
    return {
      status,
      code: HTTP_CODES[status] ?? `HTTP_${status}`,
      message: error.message,
      retryable: status === 408 || status === 429,
      headers: {},
    };
  }
  return undefined;
}

/** The one exception filter: every error becomes {error: {code, message, retryable, details?}}. */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ADMIN_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<ServerResponse>();
    const request = http.getRequest<AdminRequest>();
    let answer = mapAdminError(exception);
    if (answer) {
      if (answer.status >= 500) {
        this.logger.warn(
          { requestId: request.requestId, code: answer.code, details: answer.details },
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
    if (answer.status === 503 && !answer.headers['Retry-After']) answer.headers['Retry-After'] = '1';
    answeredCodes.set(response, answer.code);
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
