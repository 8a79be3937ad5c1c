import type { Logger } from 'pino';
import pino from 'pino';

/** Structured JSON logs on stderr; the level comes from the caller or TIDEMARK_LOG_LEVEL. */
export function createLogger(component: string, level?: string): Logger {
  return pino(
    { name: `tidemark.${component}`, level: level ?? process.env.TIDEMARK_LOG_LEVEL ?? 'info' },
    pino.destination({ fd: 2, sync: false }),
  );
}
