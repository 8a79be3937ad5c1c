/** Reads a context's whole events log under read_committed, as the invariants are checked against it. */
import { GENESIS_EVENT_TYPE, PartitionReader } from '@tidemark/kafka';
import { EventEnvelope } from '@tidemark/schemas';

export interface LoggedEvent {
  partition: number;
  offset: number;
  event: EventEnvelope;
}

export async function readEventsLog(
  bootstrap: string,
  context: string,
  partitions: number,
): Promise<LoggedEvent[]> {
  const reader = PartitionReader.create([bootstrap]);
  const log: LoggedEvent[] = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const topic = `${context}.events`;
      const end = await reader.endOffset(topic, partition);
      await reader.read(topic, partition, 0, end, (records) => {
        for (const record of records) {
          if (record.headers.type === GENESIS_EVENT_TYPE) continue;
          log.push({
            partition,
            offset: record.offset,
            event: EventEnvelope.parse(JSON.parse(record.value?.toString() ?? '')),
          });
        }
      });
    }
  } finally {
    reader.close();
  }
  return log;
}
