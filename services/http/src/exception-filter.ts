/** The one exception filter of every Tidemark HTTP service. */
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, Inject } from '@nestjs/common';
import type { HttpServiceConfig } from './config';
import { HTTP_SERVICE_CONFIG } from './config';
import { answerError, answerOf } from './errors';

/**
 * Every error becomes `{error: {code, message, retryable, details?}}` with its status and headers: TidemarkErrors
 * (after the service's translateError), refused bodies, Nest's HttpExceptions below 500; anything else a logged
 * 500 with an error id. No 500 for bad input.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(@Inject(HTTP_SERVICE_CONFIG) private readonly config: HttpServiceConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = this.config.translateError ? this.config.translateError(exception) : exception;
    answerError(host, answerOf(error, this.config.maxBodyBytes), exception, this.config.logger);
  }
}
