/** Nest's own log lines routed into the services' JSON logs. */
import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/** Nest's own log lines (route mapping, bootstrap) go to pino; its chatty "log" level becomes debug. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]) {
    this.logger.debug(fields(rest), text(message));
  }
  error(message: unknown, ...rest: unknown[]) {
    this.logger.error(fields(rest), text(message));
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.logger.warn(fields(rest), text(message));
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.logger.debug(fields(rest), text(message));
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.logger.trace(fields(rest), text(message));
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.logger.fatal(fields(rest), text(message));
  }
}

function text(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  return JSON.stringify(message) ?? String(message);
}

function fields(rest: unknown[]): Record<string, unknown> {
  const strings = rest.filter((r): r is string => typeof r === 'string');
  return strings.length > 0 ? { nest: strings.at(-1), extra: strings.slice(0, -1) } : {};
}
