/**
 * The one logger factory of every Tidemark process: JSON lines (pino) on stderr, so stdout stays free for human
 * output. Service commands pass the level their settings table resolved (TIDEMARK_LOG_LEVEL or --log-level);
 * a library used on its own (a test's embedded broker) falls back to TIDEMARK_LOG_LEVEL here, in this one
 * place. Nest's own log lines: PinoNestLogger in @tidemark/http.
 */
import type { Logger } from 'pino';
import pino from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Default: TIDEMARK_LOG_LEVEL, else info. */
  level?: string | undefined;
  /**
   * Write each line before going on (default true). A process that logs on its hot path (the broker, the search
   * server) buffers instead; a line may then be lost if it crashes.
   */
  sync?: boolean;
}

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino(
    { name, level: options.level ?? process.env.TIDEMARK_LOG_LEVEL ?? 'info' },
    pino.destination({ fd: 2, sync: options.sync ?? true }),
  );
}
