/** kafkajs clients configured the Tidemark way: pino logs, bounded retries, one place for connection settings. */
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ISocketFactory, KafkaConfig, LogEntry } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
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

/**
 * kafkajs's default sockets keep Nagle's algorithm on, so a small request written while the previous one is
 * unacknowledged waits for the peer's delayed ACK: tens of milliseconds per round trip on a transaction's chain
 * of small requests. Same sockets otherwise (keep-alive, TLS when configured).
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? connectTls({ host, port, ...ssl }, onConnect) : connect({ host, port }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  return socket;
};

export function createKafka(connection: KafkaConnection): Kafka {
  const log = connection.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 },
    // kafkajs is chatty at info; its warnings and errors are worth keeping.
    logLevel: logLevel.WARN,
    socketFactory: noDelaySocketFactory,
    logCreator:
      () =>
      ({ level, namespace, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info']({ namespace, ...rest }, message);
      },
    ...connection.overrides,
  });
}
