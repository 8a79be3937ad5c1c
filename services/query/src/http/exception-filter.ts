import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, Inject } from '@nestjs/common';
import type { ErrorAnswer } from '@tidemark/observability/http';
import { answerError, answerFromHttpException } from '@tidemark/observability/http';
import { TidemarkError } from '@tidemark/schemas';
import type { Logger } from 'pino';
import { DEFAULT_RETRY_AFTER_SECONDS, QueryError } from '../errors';
import { QUERY_LOGGER } from '../tokens';

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
  return answerFromHttpException(exception);
}

/** The one exception filter: every error becomes {error: {code, message, retryable, details?}}; no 500 for bad input. */
@Catch()
export class QueryExceptionFilter implements ExceptionFilter {
  constructor(@Inject(QUERY_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    answerError(host, mapKnownError(exception), exception, this.logger, DEFAULT_RETRY_AFTER_SECONDS);
  }
}
