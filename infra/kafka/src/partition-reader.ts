/**
 * A fetch-only Kafka client that reads one partition from an offset to an end offset under read_committed.
 *
 * Why not kafkajs: rebuilding a command processor's state needs manual partition assignment (read partition p
 * of <ctx>.events from a snapshot offset to the end, now), which kafkajs does not offer — its consumers only
 * join groups. This client speaks Metadata v1, ListOffsets v2 and Fetch v11 with the pure codecs of
 * @tidemark/kafka-protocol, so it works against Kafka and the embedded broker alike. It skips control batches and
 * aborted transactions as a Java consumer does, and decodes uncompressed and gzip batches (Tidemark's producers
 * do not compress).
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import * as kp from '@tidemark/kafka-protocol';

export interface ReadRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const FETCH_VERSION = 11;
const LIST_OFFSETS_VERSION = 2;
const METADATA_VERSION = 1;
const READ_COMMITTED = 1;

class BrokerConnection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, { resolve(body: Buffer): void; reject(error: Error): void }>();
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(
    host: string,
    port: number,
    private readonly clientId: string,
  ) {
    this.socket = connect(port, host);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error(`connection to ${host}:${port} closed`)));
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + size) return;
      const frame = this.buffered.subarray(4, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      const correlationId = frame.readInt32BE(0);
      const waiter = this.pending.get(correlationId);
      this.pending.delete(correlationId);
      waiter?.resolve(frame.subarray(4));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  async request(
    apiKey: number,
    apiVersion: number,
    encodeBody: (writer: kp.Writer) => void,
  ): Promise<kp.Reader> {
    await this.ready;
    if (this.failure) throw this.failure;
    const correlationId = this.nextCorrelationId++;
    const writer = new kp.Writer(1024);
    writer.int32(0); // size, patched below
    kp.encodeRequestHeader(writer, { apiKey, apiVersion, correlationId, clientId: this.clientId });
    encodeBody(writer);
    const frame = writer.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    const body = await new Promise<Buffer>((resolve, reject) => {
      this.pending.set(correlationId, { resolve, reject });
      this.socket.write(frame);
    });
    return new kp.Reader(body);
  }

  close(): void {
    this.socket.destroy();
  }
}

export class PartitionReader {
  private readonly connections = new Map<string, BrokerConnection>();
  private leaders = new Map<string, { host: string; port: number }>();

  private constructor(
    private readonly bootstrap: { host: string; port: number }[],
    private readonly clientId: string,
  ) {}

  static create(
    brokers: string[],
    clientId = `tidemark-reader-${randomUUID().slice(0, 8)}`,
  ): PartitionReader {
    const bootstrap = brokers.map((address) => {
      const at = address.lastIndexOf(':');
      return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
    });
    if (bootstrap.length === 0) throw new Error('PartitionReader needs at least one broker');
    return new PartitionReader(bootstrap, clientId);
  }

  private connection(address: { host: string; port: number }): BrokerConnection {
    const key = `${address.host}:${address.port}`;
    let connection = this.connections.get(key);
    if (!connection) {
      connection = new BrokerConnection(address.host, address.port, this.clientId);
      this.connections.set(key, connection);
      // A failed connection is dropped so that the next request reconnects.
      connection.ready.catch(() => this.connections.delete(key));
    }
    return connection;
  }

  private forget(address: { host: string; port: number }): void {
    const key = `${address.host}:${address.port}`;
    this.connections.get(key)?.close();
    this.connections.delete(key);
  }

  private async refreshLeaders(topic: string): Promise<void> {
    let lastError: unknown;
    for (const address of this.bootstrap) {
      try {
        const reader = await this.connection(address).request(kp.ApiKey.Metadata, METADATA_VERSION, (w) =>
          kp.encodeMetadataRequest(
            w,
            { topics: [{ name: topic }], allowAutoTopicCreation: false },
            METADATA_VERSION,
          ),
        );
        const metadata = kp.decodeMetadataResponse(reader, METADATA_VERSION);
        const brokers = new Map(metadata.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }]));
        for (const t of metadata.topics) {
          if (t.errorCode !== 0) throw new Error(`metadata for ${t.name}: ${kp.errorName(t.errorCode)}`);
          for (const p of t.partitions) {
            const leader = brokers.get(p.leaderId);
            if (leader) this.leaders.set(`${t.name}/${p.partitionIndex}`, leader);
          }
        }
        return;
      } catch (error) {
        lastError = error;
        this.forget(address);
      }
    }
    throw lastError;
  }

  private async leaderOf(topic: string, partition: number): Promise<{ host: string; port: number }> {
    let leader = this.leaders.get(`${topic}/${partition}`);
    if (!leader) {
      await this.refreshLeaders(topic);
      leader = this.leaders.get(`${topic}/${partition}`);
    }
    if (!leader) throw new Error(`no leader for ${topic}/${partition}`);
    return leader;
  }

  /** Runs a request against the partition leader, refreshing metadata and retrying on leader moves. */
  private async withLeader<T>(
    topic: string,
    partition: number,
    run: (c: BrokerConnection) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const leader = await this.leaderOf(topic, partition);
      try {
        return await run(this.connection(leader));
      } catch (error) {
        const retriable =
          error instanceof kp.KafkaError &&
          (error.code === kp.ErrorCode.NOT_LEADER_OR_FOLLOWER ||
            error.code === kp.ErrorCode.LEADER_NOT_AVAILABLE);
        if (attempt >= 5 || !(retriable || !(error instanceof kp.KafkaError))) throw error;
        this.forget(leader);
        this.leaders.delete(`${topic}/${partition}`);
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
  }

  /** The last stable offset of a partition (read_committed "latest"): everything below it is decided. */
  async endOffset(topic: string, partition: number): Promise<number> {
    return this.withLeader(topic, partition, async (connection) => {
      const reader = await connection.request(kp.ApiKey.ListOffsets, LIST_OFFSETS_VERSION, (w) =>
        kp.encodeListOffsetsRequest(
          w,
          {
            replicaId: -1,
            isolationLevel: READ_COMMITTED,
            topics: [
              { name: topic, partitions: [{ partitionIndex: partition, timestamp: -1, maxNumOffsets: 1 }] },
            ],
          },
          LIST_OFFSETS_VERSION,
        ),
      );
      const response = kp.decodeListOffsetsResponse(reader, LIST_OFFSETS_VERSION);
      const result = response.topics[0]?.partitions[0];
      if (!result) throw new Error(`no ListOffsets answer for ${topic}/${partition}`);
      if (result.errorCode !== 0) throw new kp.KafkaError(result.errorCode);
      return result.offset;
    });
  }

  /**
   * Reads committed records of [from, end) in order and hands them over in chunks. Resolves once the read
   * position reaches `end` (control records and aborted data count as read).
   */
  async read(
    topic: string,
    partition: number,
    from: number,
    end: number,
    onRecords: (records: ReadRecord[]) => void | Promise<void>,
    maxBytes = 8 * 1024 * 1024,
  ): Promise<void> {
    let position = from;
    const aborted = new Set<number>();
    while (position < end) {
      const data = await this.withLeader(topic, partition, async (connection) => {
        const reader = await connection.request(kp.ApiKey.Fetch, FETCH_VERSION, (w) =>
          kp.encodeFetchRequest(
            w,
            {
              replicaId: -1,
              maxWaitMs: 500,
              minBytes: 1,
              maxBytes,
              isolationLevel: READ_COMMITTED,
              sessionId: 0,
              sessionEpoch: -1,
              topics: [
                {
                  topic,
                  partitions: [
                    {
                      partition,
                      currentLeaderEpoch: -1,
                      fetchOffset: position,
                      logStartOffset: -1,
                      partitionMaxBytes: maxBytes,
                    },
                  ],
                },
              ],
              forgottenTopicsData: [],
              rackId: '',
            },
            FETCH_VERSION,
          ),
        );
        const response = kp.decodeFetchResponse(reader, FETCH_VERSION);
        const result = response.responses[0]?.partitions[0];
        if (!result) throw new Error(`no Fetch answer for ${topic}/${partition}`);
        if (result.errorCode !== 0) throw new kp.KafkaError(result.errorCode);
        return result;
      });
      const abortedStarts = [...(data.abortedTransactions ?? [])].sort(
        (a, b) => a.firstOffset - b.firstOffset,
      );
      const records = data.records ?? Buffer.alloc(0);
      const batch: ReadRecord[] = [];
      let pos = 0;
      let advanced = false;
      while (pos + kp.LOG_OVERHEAD <= records.length) {
        const size = kp.batchSizeAt(records, pos);
        if (pos + size > records.length) break; // a partial batch at the end of the response
        const header = kp.readBatchHeader(records, pos);
        const last = kp.lastOffsetOf(header);
        // A producer's aborted range starts at its first offset and ends at its ABORT marker.
        while (abortedStarts.length > 0 && (abortedStarts[0]?.firstOffset ?? Infinity) <= last) {
          aborted.add((abortedStarts.shift() as { producerId: number }).producerId);
        }
        if (last >= position) {
          if (kp.isControl(header.attributes)) {
            const control = kp.readControlRecord(records, pos, size);
            if (control?.type === kp.ControlType.ABORT) aborted.delete(header.producerId);
          } else if (!(kp.isTransactional(header.attributes) && aborted.has(header.producerId))) {
            for (const record of decodeRecords(records.subarray(pos, pos + size), header)) {
              if (record.offset >= position && record.offset < end) batch.push(record);
            }
          }
          position = last + 1;
          advanced = true;
        }
        pos += size;
      }
      if (batch.length > 0) await onRecords(batch);
      if (!advanced && position < end) {
        const visibleEnd = Math.min(
          data.highWatermark,
          data.lastStableOffset >= 0 ? data.lastStableOffset : data.highWatermark,
        );
        if (visibleEnd <= position) {
          throw new Error(`${topic}/${partition} ends at ${visibleEnd}, before the requested end ${end}`);
        }
      }
    }
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}

/** Decodes the records of one (non-control) batch: v2 record format, zigzag varints. */
function decodeRecords(batch: Buffer, header: ReturnType<typeof kp.readBatchHeader>): ReadRecord[] {
  const compression = kp.compressionOf(header.attributes);
  let body = batch.subarray(kp.RECORDS_OFFSET);
  if (compression === 1) body = gunzipSync(body);
  else if (compression !== 0)
    throw new Error(`compression codec ${compression} is not supported by the partition reader`);
  const reader = new kp.Reader(body);
  const out: ReadRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    reader.varint(); // record length
    reader.int8(); // attributes
    const timestampDelta = reader.varlong();
    const offsetDelta = reader.varint();
    const keyLength = reader.varint();
    const key = keyLength < 0 ? null : Buffer.from(reader.raw(keyLength));
    const valueLength = reader.varint();
    const value = valueLength < 0 ? null : Buffer.from(reader.raw(valueLength));
    const headers: Record<string, string> = {};
    const headerCount = reader.varint();
    for (let h = 0; h < headerCount; h++) {
      const name = reader.raw(reader.varint()).toString('utf8');
      const length = reader.varint();
      headers[name] = length < 0 ? '' : reader.raw(length).toString('utf8');
    }
    out.push({
      offset: header.baseOffset + offsetDelta,
      timestamp: header.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  return out;
}
