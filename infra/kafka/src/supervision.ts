/**
 * kafkajs restarts a crashed consumer only when the error is retriable; after a non-retriable one (a broker
 * restart can surface as "Failed to find group coordinator") it disconnects and stays down, and a processor or
 * gateway would silently stop consuming. This restarts it with the same run configuration until closed.
 */
import type { Consumer, ConsumerRunConfig } from 'kafkajs';
import type { Logger } from 'pino';

export function runSupervised(
  consumer: Consumer,
  runConfig: ConsumerRunConfig,
  options: { logger: Logger; isClosed: () => boolean; backoffMs?: number },
): Promise<void> {
  const backoffMs = options.backoffMs ?? 1000;
  const restart = (attempt: number): void => {
    if (options.isClosed()) return;
    setTimeout(
      () => {
        if (options.isClosed()) return;
        consumer
          .connect()
          .then(() => consumer.run(runConfig))
          .then(
            () => options.logger.warn({ attempt }, 'consumer restarted after a crash'),
            (error: unknown) => {
              options.logger.warn({ err: error, attempt }, 'consumer restart failed; trying again');
              restart(attempt + 1);
            },
          );
      },
      Math.min(backoffMs * 2 ** attempt, 30_000),
    );
  };
  consumer.on(consumer.events.CRASH, (event) => {
    if (event.payload.restart || options.isClosed()) return; // kafkajs restarts it itself
    options.logger.error(
      { err: event.payload.error },
      'consumer crashed with a non-retriable error; restarting it',
    );
    restart(0);
  });
  return consumer.run(runConfig);
}
