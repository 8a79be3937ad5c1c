/** kafkajs clients configured the Tidemark way: pino logs, bounded retries, one place for connection settings. */
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Extra kafkajs settings (ssl, sasl, retry) for real clusters. */
  overrides?: Partial<KafkaConfig>;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(connection: KafkaConnection): Kafka {
  const log = connection.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 },
    // kafkajs is chatty at info; its warnings and errors are worth keeping.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, namespace, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info']({ namespace, ...rest }, message);
      },
    ...connection.overrides,
  });
}
