/** The stack's logs come from the one logger factory (infra/observability). */

import { createLogger as createProcessLogger } from '@tidemark/observability';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

/** JSON logs on stderr under `name` (default tidemark.stack). */
export function createLogger(name = 'tidemark.stack', level?: string): Logger {
  return createProcessLogger(name, { level });
}
