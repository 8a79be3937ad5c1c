/** Structured JSON logs for every Tidemark process (Nest's own log lines: PinoNestLogger in ./http). */
import type { Logger } from 'pino';
import pino from 'pino';

/** JSON logs on stderr under `name`; the level comes from TIDEMARK_LOG_LEVEL (default info). */
export function createServiceLogger(name: string, level?: string): Logger {
  return pino(
    { name, level: level ?? process.env.TIDEMARK_LOG_LEVEL ?? 'info' },
    pino.destination({ fd: 2, sync: true }),
  );
}
