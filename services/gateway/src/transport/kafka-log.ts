import type { LogEntry, logCreator } from 'kafkajs';
import { logLevel } from 'kafkajs';
import type { Logger } from 'pino';

/** Routes kafkajs's log lines into pino. kafkajs logs retried connection failures as errors: they become warnings. */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...rest } = log;
      const fields = { kafkajs: namespace, ...rest };
      if (message.startsWith('Limiting retries for the idempotent producer')) {
        // Deliberate: a send must fail in bounded time (LOG_UNAVAILABLE); the retry reuses the command id.
        logger.debug(fields, message);
      } else if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}
