import { createLogger } from '@tidemark/observability';
import type { Logger } from 'pino';

/** JSON logs on stderr (the one logger factory); the level as the settings table resolved it. */
export function createGatewayLogger(level?: string): Logger {
  return createLogger('tidemark.gateway', { level });
}
