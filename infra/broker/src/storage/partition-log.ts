/**
 * One partition's log on disk: segments, offsets, high watermark, producer state, transactions.
 *
 * Everything that decides an append (validation, producer checks, offset and file position assignment) runs
 * synchronously when append() is called, so pipelined appends take effect in call order. The bytes are written
 * right away with positional writes and become visible (high watermark) only after the group committer fsynced
 * them.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import {
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  buildControlBatch,
  ControlType,
  crcMatches,
  ErrorCode,
  findTimestampInBatch,
  isControl,
  isTransactional,
  KafkaError,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  readBatchHeader,
  readControlRecord,
  readInt64,
  rewriteBatchBase,
  scanBatches,
  validateClientBatch,
} from '@tidemark/kafka-protocol';
import type { Logger } from 'pino';
import type {
  AbortedTransaction,
  AppendOptions,
  AppendResult,
  FetchPartitionResult,
  IsolationLevel,
} from '../contracts';
import { fdatasync, fstatSize, fsyncDir, ftruncate, isErrnoException, readInto } from './fs-util';
import type { CommitTarget, GroupCommitter } from './group-commit';
import { ProducerStateManager } from './producer-state';
import { INDEX_ENTRY_SIZE, INDEX_INTERVAL_BYTES, parseSegmentFileName, Segment } from './segment';

/** Answered after a failed write or fsync (the partition stays offline until restart). */
export const KAFKA_STORAGE_ERROR = ErrorCode.KAFKA_STORAGE_ERROR;
/** The leader epoch written into every batch (single node, never changes). */
export const LEADER_EPOCH = 0;
/** Largest segment file we create (positions are stored as uint32 in the index; Kafka caps at 2 GiB too). */
const MAX_SEGMENT_BYTES = 0x7fffffff;
const RECOVERY_CHUNK_BYTES = 8 * 1024 * 1024;
const SCAN_CHUNK_BYTES = 256 * 1024;

export interface PartitionSettings {
  segmentBytes: number;
  retentionBytes: number | null;
  retentionMs: number | null;
  maxMessageBytes: number;
}

interface TxnRange {
  producerId: number;
  firstOffset: number;
  /** Offset of the end marker, -1 while open. The range stays here (holding the LSO) until the marker is durable. */
  markerOffset: number;
  commit: boolean;
}

interface AbortedRange {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

export interface RecoveryStats {
  segments: number;
  batches: number;
  bytes: number;
  truncatedBytes: number;
  deletedSegments: number;
}

/** Buffered sequential reader over one segment's bytes [0, limit). */
class SegmentCursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private own: Buffer | null = null;

  constructor(
    private readonly segment: Segment,
    private readonly limit: number,
    private readonly chunk: number,
    /** Reuse one buffer across reads (only when the caller keeps no slices). */
    private readonly reuse = false,
  ) {}

  /** Makes [pos, pos + len) available and returns the buffer and the offset of pos in it; null past the limit. */
  async ensure(pos: number, len: number): Promise<{ buf: Buffer; off: number } | null> {
    if (pos >= this.bufStart && pos + len <= this.bufStart + this.buf.length) {
      return { buf: this.buf, off: pos - this.bufStart };
    }
    if (pos + len > this.limit) return null;
    const want = Math.min(Math.max(len, this.chunk), this.limit - pos);
    let target: Buffer;
    if (this.reuse) {
      // Never a pooled buffer: allocUnsafeSlow owns its memory, so refilling it cannot clobber anyone else.
      if (this.own === null || this.own.length < want) this.own = Buffer.allocUnsafeSlow(want);
      target = this.own;
    } else {
      target = Buffer.allocUnsafe(want);
    }
    const n = await readInto(this.segment.fd, target, want, pos);
    this.buf = target.subarray(0, n);
    this.bufStart = pos;
    if (n < len) return null;
    return { buf: this.buf, off: 0 };
  }
}

export class PartitionLog implements CommitTarget {
  readonly name: string;
  segments: Segment[] = [];
  /** Next offset to assign (log end offset, including appends not yet durable). */
  nextOffset = 0;
  highWatermark = 0;
  logStartOffset = 0;
  failed: Error | null = null;
  deleted = false;
  readonly producers = new ProducerStateManager();
  private txns: TxnRange[] = [];
  /** Aborted transactions whose marker is durable, in marker order (so sorted by lastOffset). */
  private aborted: AbortedRange[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    public settings: PartitionSettings,
    private readonly committer: GroupCommitter,
    private readonly logger: Logger,
  ) {
    this.name = `${topic}-${partition}`;
  }

  static dirName(topic: string, partition: number): string {
    return `${topic}-${partition}`;
  }

  /** A new, empty partition: creates its directory and first segment durably. */
  static async create(
    logsDir: string,
    topic: string,
    partition: number,
    settings: PartitionSettings,
    committer: GroupCommitter,
    logger: Logger,
  ): Promise<PartitionLog> {
    const dir = join(logsDir, PartitionLog.dirName(topic, partition));
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir);
    const log = new PartitionLog(topic, partition, dir, settings, committer, logger);
    const segment = Segment.create(dir, 0);
    await segment.ready;
    await fsyncDir(dir);
    log.segments.push(segment);
    return log;
  }

  /** Opens an existing partition directory and recovers its state from the segment files. */
  static async open(
    logsDir: string,
    topic: string,
    partition: number,
    settings: PartitionSettings,
    committer: GroupCommitter,
    logger: Logger,
  ): Promise<{ log: PartitionLog; stats: RecoveryStats }> {
    const dir = join(logsDir, PartitionLog.dirName(topic, partition));
    await fsp.mkdir(dir, { recursive: true });
    const log = new PartitionLog(topic, partition, dir, settings, committer, logger);
    const stats = await log.recover();
    return { log, stats };
  }

  get activeSegment(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get lastStableOffset(): number {
    let lso = this.highWatermark;
    for (const t of this.txns) if (t.firstOffset < lso) lso = t.firstOffset;
    return lso;
  }

  fail(error: Error): void {
    this.failed = error;
  }

  private checkWritable(): void {
    if (this.deleted) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${this.name} was deleted`);
    if (this.failed !== null) {
      throw new KafkaError(
        KAFKA_STORAGE_ERROR,
        `${this.name} is offline after a storage error: ${this.failed.message}`,
      );
    }
  }

  // ---------------------------------------------------------------- append

  append(records: Buffer, options: AppendOptions): Promise<AppendResult> {
    this.checkWritable();
    const scan = scanBatches(records);
    if (scan.stop !== null || scan.batches.length === 0) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'records are not a sequence of whole record batches');
    }
    for (const span of scan.batches) {
      if (span.size > this.settings.maxMessageBytes) {
        throw new KafkaError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `batch of ${span.size} bytes exceeds ${this.settings.maxMessageBytes}`,
        );
      }
      validateClientBatch(records, span);
    }
    const first = scan.batches[0];
    if (first === undefined) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE);
    const idempotent = scan.batches.some((s) => s.header.producerId >= 0);
    if (idempotent) {
      if (scan.batches.length > 1) {
        throw new KafkaError(
          ErrorCode.INVALID_RECORD,
          'an idempotent produce carries one batch per partition',
        );
      }
      const duplicate = this.producers.check(first.header);
      if (duplicate !== null)
        return this.answerDuplicate(duplicate.firstOffset, duplicate.lastOffset, options.acks);
    }

    // Assign offsets and file positions (synchronously: call order is log order).
    const baseOffset = this.nextOffset;
    const segment = this.segmentFor(records.length);
    let position = segment.size;
    let offset = baseOffset;
    for (const span of scan.batches) {
      const h = span.header;
      rewriteBatchBase(records, span.position, offset, LEADER_EPOCH);
      const last = offset + h.lastOffsetDelta;
      segment.addBatch(offset, last, position, span.size, h.maxTimestamp);
      if (h.producerId >= 0) {
        const opened = this.producers.recordBatch(h, offset, isTransactional(h.attributes));
        if (opened)
          this.txns.push({ producerId: h.producerId, firstOffset: offset, markerOffset: -1, commit: false });
      }
      position += span.size;
      offset = last + 1;
    }
    this.nextOffset = offset;
    segment.size = position;
    const write = segment.write(records, position - records.length);
    this.committer.markDirty(segment, this);

    const result = (): AppendResult => ({
      baseOffset,
      logAppendTimeMs: -1,
      logStartOffset: this.logStartOffset,
    });
    if (options.acks === 0) {
      this.committer.enqueue(this.entry(offset, segment, position, write, noop, noop));
      return Promise.resolve(result());
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.committer.enqueue(this.entry(offset, segment, position, write, () => resolve(result()), reject));
    });
  }

  /** A duplicate answers with the original offsets once those are durable. */
  private answerDuplicate(firstOffset: number, lastOffset: number, acks: number): Promise<AppendResult> {
    const result = (): AppendResult => ({
      baseOffset: firstOffset,
      logAppendTimeMs: -1,
      logStartOffset: this.logStartOffset,
    });
    if (acks === 0 || lastOffset < this.highWatermark) return Promise.resolve(result());
    return new Promise<AppendResult>((resolve, reject) => {
      this.committer.enqueue(this.entry(lastOffset + 1, null, 0, null, () => resolve(result()), reject));
    });
  }

  private entry(
    endOffset: number,
    segment: Segment | null,
    endPosition: number,
    write: Promise<void> | null,
    resolve: () => void,
    reject: (error: Error) => void,
  ) {
    return {
      target: this,
      endOffset,
      segment,
      endPosition,
      write,
      resolve,
      reject: (error: Error) =>
        reject(error instanceof KafkaError ? error : new KafkaError(KAFKA_STORAGE_ERROR, error.message)),
    };
  }

  /** The segment that takes the next `bytes`: rolls a new one when the active one would exceed segment.bytes. */
  private segmentFor(bytes: number): Segment {
    const active = this.activeSegment;
    const limit = Math.min(this.settings.segmentBytes, MAX_SEGMENT_BYTES);
    if (active.size === 0 || active.size + bytes <= limit) return active;
    const next = Segment.create(this.dir, this.nextOffset);
    this.segments.push(next);
    this.committer.markDirDirty(this.dir, this);
    active
      .writeIndexFile()
      .catch((err: unknown) => this.logger.warn({ err }, 'could not write segment index'));
    return next;
  }

  // ---------------------------------------------------------------- transaction markers

  writeTxnMarker(marker: {
    producerId: number;
    producerEpoch: number;
    commit: boolean;
    coordinatorEpoch: number;
  }): Promise<void> {
    this.checkWritable();
    this.producers.checkMarker(marker.producerId, marker.producerEpoch);
    const offset = this.nextOffset;
    const batch = buildControlBatch({
      baseOffset: offset,
      partitionLeaderEpoch: LEADER_EPOCH,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      commit: marker.commit,
      coordinatorEpoch: marker.coordinatorEpoch,
      timestampMs: Date.now(),
    });
    const firstOffset = this.producers.applyMarker(marker.producerId, marker.producerEpoch);
    if (firstOffset >= 0) {
      const txn = this.txns.find((t) => t.producerId === marker.producerId && t.markerOffset < 0);
      if (txn !== undefined) {
        txn.markerOffset = offset;
        txn.commit = marker.commit;
      }
    }
    const segment = this.segmentFor(batch.length);
    const position = segment.size;
    segment.addBatch(offset, offset, position, batch.length, readInt64(batch, MAX_TIMESTAMP_OFFSET));
    segment.size += batch.length;
    this.nextOffset = offset + 1;
    const write = segment.write(batch, position);
    this.committer.markDirty(segment, this);
    return new Promise<void>((resolve, reject) => {
      this.committer.enqueue(this.entry(offset + 1, segment, segment.size, write, resolve, reject));
    });
  }

  /** Called by the committer: offsets below endOffset are durable. */
  markDurable(endOffset: number): void {
    if (endOffset <= this.highWatermark) return;
    this.highWatermark = endOffset;
    if (this.txns.some((t) => t.markerOffset >= 0 && t.markerOffset < endOffset)) {
      const done: TxnRange[] = [];
      this.txns = this.txns.filter((t) => {
        if (t.markerOffset >= 0 && t.markerOffset < endOffset) {
          done.push(t);
          return false;
        }
        return true;
      });
      done.sort((a, b) => a.markerOffset - b.markerOffset);
      for (const t of done) {
        if (!t.commit) {
          this.aborted.push({
            producerId: t.producerId,
            firstOffset: t.firstOffset,
            lastOffset: t.markerOffset,
          });
        }
      }
    }
    this.wake();
  }

  // ---------------------------------------------------------------- waiting

  addWaiter(waiter: () => void): void {
    this.waiters.add(waiter);
  }

  removeWaiter(waiter: () => void): void {
    this.waiters.delete(waiter);
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  // ---------------------------------------------------------------- reads

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] as Segment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  async read(
    fetchOffset: number,
    maxBytes: number,
    isolation: IsolationLevel,
  ): Promise<FetchPartitionResult> {
    const highWatermark = this.highWatermark;
    const lastStableOffset = this.lastStableOffset;
    const logStartOffset = this.logStartOffset;
    if (fetchOffset < logStartOffset || fetchOffset > highWatermark) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${fetchOffset} is outside ${logStartOffset}..${highWatermark} of ${this.name}`,
      );
    }
    const upper = isolation === 1 ? lastStableOffset : highWatermark;
    const result: FetchPartitionResult = {
      highWatermark,
      lastStableOffset,
      logStartOffset,
      abortedTransactions: isolation === 1 ? [] : null,
      records: null,
    };
    if (fetchOffset >= upper) return result;
    const segment = this.segments[this.segmentIndexFor(fetchOffset)] as Segment;
    segment.acquire();
    let data: { records: Buffer; lastOffset: number } | null;
    try {
      data = await this.readFromSegment(segment, fetchOffset, maxBytes, upper);
    } finally {
      segment.release();
    }
    if (data === null) return result;
    result.records = data.records;
    if (isolation === 1) result.abortedTransactions = this.abortedBetween(fetchOffset, data.lastOffset + 1);
    return result;
  }

  private async readFromSegment(
    segment: Segment,
    fetchOffset: number,
    maxBytes: number,
    upper: number,
  ): Promise<{ records: Buffer; lastOffset: number } | null> {
    const limit = segment.visibleSize;
    const want = Math.max(maxBytes, 0);
    const cursor = new SegmentCursor(segment, limit, want + INDEX_INTERVAL_BYTES + BATCH_HEADER_SIZE);
    let pos = segment.positionForOffset(fetchOffset);
    let firstSize = 0;
    // Find the first batch whose last offset >= fetchOffset.
    for (;;) {
      const head = await cursor.ensure(pos, BATCH_HEADER_SIZE);
      if (head === null) return null;
      const base = readInt64(head.buf, head.off);
      if (base >= upper) return null;
      const length = head.buf.readInt32BE(head.off + BATCH_LENGTH_OFFSET);
      if (length < MIN_BATCH_LENGTH) throw new Error(`${this.name}: bad batch length ${length} at ${pos}`);
      const last = base + head.buf.readInt32BE(head.off + LAST_OFFSET_DELTA_OFFSET);
      if (last >= fetchOffset) {
        firstSize = LOG_OVERHEAD + length;
        break;
      }
      pos += LOG_OVERHEAD + length;
    }
    const start = pos;
    const span = await cursor.ensure(start, Math.max(firstSize, Math.min(want, limit - start)));
    if (span === null) return null;
    const { buf, off } = span;
    let p = off;
    let lastOffset = -1;
    while (p + BATCH_HEADER_SIZE <= buf.length) {
      const base = readInt64(buf, p);
      if (base >= upper) break;
      const size = LOG_OVERHEAD + buf.readInt32BE(p + BATCH_LENGTH_OFFSET);
      if (size < BATCH_HEADER_SIZE || p + size > buf.length) break;
      if (p > off && p - off + size > want) break;
      lastOffset = base + buf.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
      p += size;
    }
    if (p === off) return null;
    return { records: buf.subarray(off, p), lastOffset };
  }

  /** Durable aborted transactions overlapping [from, to), sorted by first offset. */
  private abortedBetween(from: number, to: number): AbortedTransaction[] {
    let lo = 0;
    let hi = this.aborted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.aborted[mid] as AbortedRange).lastOffset >= from) hi = mid;
      else lo = mid + 1;
    }
    const out: AbortedTransaction[] = [];
    for (let i = lo; i < this.aborted.length; i++) {
      const a = this.aborted[i] as AbortedRange;
      if (a.firstOffset < to) out.push({ producerId: a.producerId, firstOffset: a.firstOffset });
    }
    out.sort((a, b) => a.firstOffset - b.firstOffset);
    return out;
  }

  async listOffset(
    timestamp: number,
    isolation: IsolationLevel,
  ): Promise<{ offset: number; timestamp: number }> {
    if (timestamp === -1)
      return { offset: isolation === 1 ? this.lastStableOffset : this.highWatermark, timestamp: -1 };
    if (timestamp === -2) return { offset: this.logStartOffset, timestamp: -1 };
    const none = { offset: -1, timestamp: -1 };
    if (timestamp < 0) return none;
    const upper = isolation === 1 ? this.lastStableOffset : this.highWatermark;
    for (const segment of [...this.segments]) {
      if (segment.baseOffset >= upper) break;
      if (segment.maxTimestamp < timestamp) continue;
      segment.acquire();
      try {
        if (segment.closing) continue;
        const found = await this.findTimestampInSegment(segment, timestamp, upper);
        if (found !== null) return found;
      } finally {
        segment.release();
      }
    }
    return none;
  }

  private async findTimestampInSegment(
    segment: Segment,
    target: number,
    upper: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    const cursor = new SegmentCursor(segment, segment.visibleSize, SCAN_CHUNK_BYTES);
    let pos = segment.positionForTimestamp(target);
    for (;;) {
      const head = await cursor.ensure(pos, BATCH_HEADER_SIZE);
      if (head === null) return null;
      const base = readInt64(head.buf, head.off);
      if (base >= upper) return null;
      const size = LOG_OVERHEAD + head.buf.readInt32BE(head.off + BATCH_LENGTH_OFFSET);
      if (size < BATCH_HEADER_SIZE) throw new Error(`${this.name}: bad batch length at ${pos}`);
      if (readInt64(head.buf, head.off + MAX_TIMESTAMP_OFFSET) >= target) {
        const whole = await cursor.ensure(pos, size);
        if (whole === null) return null;
        const match = findTimestampInBatch(whole.buf, whole.off, size, target);
        if (match !== null) return { offset: match.offset, timestamp: match.timestamp };
      }
      pos += size;
    }
  }

  // ---------------------------------------------------------------- retention

  /** Deletes whole oldest segments (never the active one) past retention; returns how many were deleted. */
  async applyRetention(now: number): Promise<number> {
    const { retentionBytes, retentionMs } = this.settings;
    if ((retentionBytes === null && retentionMs === null) || this.deleted) return 0;
    const removed: Segment[] = [];
    let size = this.sizeBytes;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (oldest.nextOffset > this.highWatermark || oldest.visibleSize < oldest.size) break;
      const bySize = retentionBytes !== null && size - oldest.size >= retentionBytes;
      const byTime =
        retentionMs !== null && oldest.maxTimestamp >= 0 && now - oldest.maxTimestamp > retentionMs;
      if (!bySize && !byTime) break;
      this.segments.shift();
      size -= oldest.size;
      removed.push(oldest);
    }
    if (removed.length === 0) return 0;
    this.logStartOffset = (this.segments[0] as Segment).baseOffset;
    while (this.aborted.length > 0 && (this.aborted[0] as AbortedRange).lastOffset < this.logStartOffset) {
      this.aborted.shift();
    }
    this.logger.info(
      { partition: this.name, segments: removed.length, logStartOffset: this.logStartOffset },
      'retention deleted segments',
    );
    for (const s of removed) {
      await s.close();
      await fsp.rm(s.logPath, { force: true });
      await fsp.rm(s.indexPath, { force: true });
    }
    await fsyncDir(this.dir).catch(() => undefined);
    return removed.length;
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    const active = this.segments[this.segments.length - 1];
    if (active !== undefined && !this.deleted && this.failed === null) {
      await active.writeIndexFile().catch(() => undefined);
    }
    await Promise.all(this.segments.map((s) => s.close()));
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Rebuilds the state from the segment files: every batch is checked (length, magic, CRC, contiguous offsets);
   * the log is truncated at the first bad or torn batch and any later segment is deleted. Rebuilds the indexes,
   * producer state, open transactions and aborted transactions, then fsyncs what it kept, since readers may see
   * all of it from now on.
   */
  private async recover(): Promise<RecoveryStats> {
    const stats: RecoveryStats = { segments: 0, batches: 0, bytes: 0, truncatedBytes: 0, deletedSegments: 0 };
    const names = await fsp.readdir(this.dir);
    const bases: number[] = [];
    for (const name of names) {
      const base = parseSegmentFileName(name);
      if (base !== null) bases.push(base);
      else if (name.endsWith('.tmp') || name.endsWith('.deleted'))
        await fsp.rm(join(this.dir, name), { force: true });
    }
    bases.sort((a, b) => a - b);
    for (const name of names) {
      const m = /^(\d{20})\.index$/.exec(name);
      if (m?.[1] !== undefined && !bases.includes(Number(m[1])))
        await fsp.rm(join(this.dir, name), { force: true });
    }
    if (bases.length === 0) {
      const segment = Segment.create(this.dir, 0);
      await segment.ready;
      await fsyncDir(this.dir);
      this.segments.push(segment);
      return stats;
    }

    let expected = bases[0] as number;
    let stopAt = -1; // index of the first segment to delete
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i] as number;
      if (base !== expected) {
        this.logger.warn(
          { partition: this.name, base, expected },
          'segment does not continue the log; deleting it',
        );
        stopAt = i;
        break;
      }
      const segment = await Segment.openExisting(this.dir, base);
      this.segments.push(segment);
      const fileSize = await fstatSize(segment.fd);
      const scanned = await this.recoverSegment(segment, fileSize, expected, stats);
      expected = scanned.nextOffset;
      segment.size = scanned.validBytes;
      segment.visibleSize = scanned.validBytes;
      segment.nextOffset = expected;
      stats.segments++;
      stats.bytes += scanned.validBytes;
      if (scanned.validBytes < fileSize) {
        stats.truncatedBytes += fileSize - scanned.validBytes;
        this.logger.warn(
          {
            partition: this.name,
            segment: base,
            validBytes: scanned.validBytes,
            fileSize,
            reason: scanned.reason,
          },
          'truncating the log at the last whole valid batch',
        );
        await ftruncate(segment.fd, scanned.validBytes);
        stopAt = i + 1;
        break;
      }
    }
    if (stopAt >= 0) {
      for (const base of bases.slice(stopAt)) {
        const name = String(base).padStart(20, '0');
        await fsp.rm(join(this.dir, `${name}.log`), { force: true });
        await fsp.rm(join(this.dir, `${name}.index`), { force: true });
        stats.deletedSegments++;
      }
    }
    // Everything kept becomes readable now: make sure it is durable (a kill -9 leaves unsynced bytes in the
    // page cache, which a later power loss could still drop).
    await Promise.all(this.segments.map((s) => fdatasync(s.fd)));
    if (stats.truncatedBytes > 0 || stats.deletedSegments > 0) await fsyncDir(this.dir);

    this.nextOffset = expected;
    this.highWatermark = expected;
    this.logStartOffset = (this.segments[0] as Segment).baseOffset;
    await Promise.all(this.segments.map((s) => this.refreshIndexFile(s)));
    return stats;
  }

  private async refreshIndexFile(segment: Segment): Promise<void> {
    try {
      const st = await fsp.stat(segment.indexPath);
      if (st.size === segment.indexEntryCount * INDEX_ENTRY_SIZE && segment !== this.activeSegment) return;
    } catch (err) {
      if (!isErrnoException(err, 'ENOENT')) throw err;
    }
    await segment
      .writeIndexFile()
      .catch((err: unknown) => this.logger.warn({ err }, 'could not write index'));
  }

  private async recoverSegment(
    segment: Segment,
    fileSize: number,
    firstOffset: number,
    stats: RecoveryStats,
  ): Promise<{ validBytes: number; nextOffset: number; reason: string | null }> {
    const cursor = new SegmentCursor(segment, fileSize, RECOVERY_CHUNK_BYTES, true);
    let pos = 0;
    let expected = firstOffset;
    while (pos < fileSize) {
      const head = await cursor.ensure(pos, BATCH_HEADER_SIZE);
      if (head === null) return { validBytes: pos, nextOffset: expected, reason: 'partial header' };
      const length = head.buf.readInt32BE(head.off + BATCH_LENGTH_OFFSET);
      if (length < MIN_BATCH_LENGTH)
        return { validBytes: pos, nextOffset: expected, reason: 'bad batch length' };
      const size = LOG_OVERHEAD + length;
      const whole = await cursor.ensure(pos, size);
      if (whole === null) return { validBytes: pos, nextOffset: expected, reason: 'partial batch' };
      const { buf, off } = whole;
      const h = readBatchHeader(buf, off);
      if (h.magic !== 2) return { validBytes: pos, nextOffset: expected, reason: `magic ${h.magic}` };
      if (h.baseOffset !== expected) {
        return {
          validBytes: pos,
          nextOffset: expected,
          reason: `offset ${h.baseOffset}, expected ${expected}`,
        };
      }
      if (h.lastOffsetDelta < 0)
        return { validBytes: pos, nextOffset: expected, reason: 'negative lastOffsetDelta' };
      if (!crcMatches(buf, off, size))
        return { validBytes: pos, nextOffset: expected, reason: 'crc mismatch' };

      const last = h.baseOffset + h.lastOffsetDelta;
      segment.addBatch(h.baseOffset, last, pos, size, h.maxTimestamp);
      if (h.producerId >= 0) {
        if (isControl(h.attributes)) {
          const control = readControlRecord(buf, off, size);
          const first = this.producers.applyMarker(h.producerId, h.producerEpoch);
          if (first >= 0) {
            this.txns = this.txns.filter((t) => t.producerId !== h.producerId);
            if (control === null || control.type !== ControlType.COMMIT) {
              this.aborted.push({ producerId: h.producerId, firstOffset: first, lastOffset: h.baseOffset });
            }
          }
        } else {
          const opened = this.producers.recordBatch(h, h.baseOffset, isTransactional(h.attributes));
          if (opened) {
            this.txns.push({
              producerId: h.producerId,
              firstOffset: h.baseOffset,
              markerOffset: -1,
              commit: false,
            });
          }
        }
      }
      stats.batches++;
      expected = last + 1;
      pos += size;
    }
    return { validBytes: pos, nextOffset: expected, reason: null };
  }
}

function noop(): void {}
