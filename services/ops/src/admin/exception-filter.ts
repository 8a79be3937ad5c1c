import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, Inject } from '@nestjs/common';
import type { ErrorAnswer } from '@tidemark/observability/http';
import { answerError, answerFromHttpException, bodyParserError } from '@tidemark/observability/http';
import { ControlConflictError } from '@tidemark/projection-runtime';
import { TidemarkError } from '@tidemark/schemas';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { fromControlError } from '../projection-ops/errors';
import { AdminError } from './errors';
import { ADMIN_LOGGER } from './tokens';

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
  return answerFromHttpException(error);
}

/** The one exception filter: every error becomes {error: {code, message, retryable, details?}}. */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ADMIN_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    answerError(host, mapAdminError(exception), exception, this.logger, 1);
  }
}
