import type { Logger } from 'pino';
import pino from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs on stderr (stdout stays free for human output such as `tidemark up`'s table).
 * The level comes from TIDEMARK_LOG_LEVEL (default info).
 */
export function createLogger(name = 'tidemark.stack', level?: string): Logger {
  return pino(
    { name, level: level ?? process.env.TIDEMARK_LOG_LEVEL ?? 'info' },
    pino.destination({ fd: 2, sync: true }),
  );
}
