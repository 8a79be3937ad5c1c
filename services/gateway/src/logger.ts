import { createServiceLogger } from '@tidemark/observability';
import type { Logger } from 'pino';

export { PinoNestLogger } from '@tidemark/observability/http';

/** JSON logs on stderr; the level comes from TIDEMARK_LOG_LEVEL (default info). */
export function createGatewayLogger(level?: string): Logger {
  return createServiceLogger('tidemark.gateway', level);
}
