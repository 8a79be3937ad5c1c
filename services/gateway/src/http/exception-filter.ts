import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, Inject } from '@nestjs/common';
import type { ErrorAnswer } from '@tidemark/observability/http';
import { answerError, answerFromHttpException, bodyParserError } from '@tidemark/observability/http';
import { TidemarkError } from '@tidemark/schemas';
import type { Logger } from 'pino';
import type { ResolvedGatewayOptions } from '../options';
import { GATEWAY_LOGGER, GATEWAY_OPTIONS_RESOLVED } from '../tokens';
import { DEFAULT_RETRY_AFTER_SECONDS, GatewayError } from './errors';

/** Maps what a request failed with to the answer; undefined for an unexpected error (a 500). */
export function mapKnownError(
  exception: unknown,
  maxBodyBytes?: number,
): (Omit<ErrorAnswer, 'headers'> & { headers?: Record<string, string> }) | undefined {
  if (exception instanceof TidemarkError) {
    return {
      status: exception.status,
      code: exception.code,
      message: exception.message,
      retryable: exception.retryable,
      ...(exception.details ? { details: exception.details } : {}),
      ...(exception instanceof GatewayError ? { headers: { ...exception.headers } } : {}),
    };
  }
  const parser =
    bodyParserError(exception) ?? bodyParserError(exception instanceof Error ? exception.cause : undefined);
  if (parser) {
    switch (parser.type) {
      case 'entity.too.large': {
        const limit = parser.limit ?? maxBodyBytes;
        return {
          status: 413,
          code: 'PAYLOAD_TOO_LARGE',
          message: 'the request body is too large',
          retryable: false,
          ...(typeof limit === 'number' ? { details: { limitBytes: limit } } : {}),
        };
      }
      case 'entity.parse.failed':
        return {
          status: 400,
          code: 'MALFORMED_JSON',
          message: 'the request body is not valid JSON',
          retryable: false,
        };
      case 'media.unsupported':
        return {
          status: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'the request body must be application/json',
          retryable: false,
        };
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return {
          status: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'the request body encoding or charset is not supported',
          retryable: false,
        };
      default:
        return {
          status: 400,
          code: 'BAD_REQUEST',
          message: 'the request body could not be read',
          retryable: false,
          details: { reason: parser.type },
        };
    }
  }
  return answerFromHttpException(exception);
}

/** The one exception filter: every error becomes {error: {code, message, retryable, details?}}; no 500 for bad input. */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  constructor(
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
    @Inject(GATEWAY_OPTIONS_RESOLVED) private readonly options: ResolvedGatewayOptions,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const known = mapKnownError(exception, this.options.maxBodyBytes);
    answerError(
      host,
      known && { ...known, headers: known.headers ?? {} },
      exception,
      this.logger,
      DEFAULT_RETRY_AFTER_SECONDS,
    );
  }
}
