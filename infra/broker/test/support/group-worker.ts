/**
 * A consumer-group member run as a child process by the group tests, so that it can be killed for real.
 * argv: <bootstrap> <groupId> <topic> <sessionTimeoutMs>
 * stdout lines: "A <partitions csv>" on each assignment, "P <partition> <offset> <value>" when a message is
 * processed, "C <partition> <offset>" once the offset after it is committed. SIGTERM leaves the group cleanly.
 */
import { Kafka, logLevel } from 'kafkajs';

async function run(): Promise<void> {
  const [bootstrap, groupId, topic, sessionTimeout] = process.argv.slice(2);
  if (!bootstrap || !groupId || !topic || !sessionTimeout)
    throw new Error('usage: group-worker <bootstrap> <group> <topic> <sessionMs>');
  const kafka = new Kafka({
    clientId: `worker-${process.pid}`,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: Number(sessionTimeout),
    rebalanceTimeout: Number(sessionTimeout) * 2,
    heartbeatInterval: 100,
    maxWaitTimeInMs: 100,
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const partitions = event.payload.memberAssignment[topic] ?? [];
    process.stdout.write(`A ${[...partitions].sort((a, b) => a - b).join(',')}\n`);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(`P ${partition} ${message.offset} ${message.value?.toString()}\n`);
      const next = (Number(message.offset) + 1).toString();
      await consumer.commitOffsets([{ topic, partition, offset: next }]);
      process.stdout.write(`C ${partition} ${message.offset}\n`);
    },
  });
  process.on('SIGTERM', () => {
    consumer.disconnect().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

run().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
