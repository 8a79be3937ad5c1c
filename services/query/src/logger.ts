import { createLogger } from '@tidemark/observability';
import type { Logger } from 'pino';

/** JSON logs on stderr (the one logger factory); the level as the settings table resolved it. */
export function createQueryLogger(level?: string): Logger {
  return createLogger('tidemark.query', { level });
}
