/**
 * Child process for the kill -9 test: opens the storage in argv[2], appends batches to topic "crash" (created by
 * the parent) with acks=-1 from several concurrent writers, and prints "ack <partition> <producerId>
 * <baseOffset> <count> <seq>" for every acknowledged append. The parent kills it with SIGKILL at some point.
 */
import { makeBatch, open } from './helpers';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (dataDir === undefined) throw new Error('usage: crash-child <dataDir>');
  const s = await open(dataDir, { segmentBytes: 64 * 1024 });
  process.stdout.write('ready\n');
  const writer = async (partition: number, producerId: number): Promise<void> => {
    for (let seq = 0; ; ) {
      const count = 1 + (seq % 5);
      const batch = await makeBatch({
        count,
        producerId,
        baseSequence: seq,
        value: (i) => `p${producerId}-s${seq + i}-${'z'.repeat(100)}`,
      });
      const res = await s.log.append('crash', partition, batch, { acks: -1, transactionalId: null });
      process.stdout.write(`ack ${partition} ${producerId} ${res.baseOffset} ${count} ${seq}\n`);
      seq += count;
    }
  };
  await Promise.all([writer(0, 1), writer(0, 2), writer(1, 3), writer(1, 4)]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
