/**
 * One segment of a partition log: <20-digit baseOffset>.log holding whole record batches back to back, and an
 * in-memory sparse index (batch base offset -> file position, plus the running max timestamp) that is also
 * written to <baseOffset>.index for inspection. The .index file is never trusted: recovery rebuilds it.
 *
 * .index format: entries of 16 bytes, big-endian: int32 offset relative to the segment's base offset,
 * uint32 file position, int64 max timestamp of all batches up to and including the indexed one.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { closeFile, fdatasync, openFile, readAt, writeAll } from './fs-util';

/** A sparse index entry is added once this many bytes have been appended since the previous one. */
export const INDEX_INTERVAL_BYTES = 4096;
export const INDEX_ENTRY_SIZE = 16;

export function segmentFileName(baseOffset: number, ext: 'log' | 'index'): string {
  return `${String(baseOffset).padStart(20, '0')}.${ext}`;
}

export function parseSegmentFileName(name: string): number | null {
  const m = /^(\d{20})\.log$/.exec(name);
  return m?.[1] === undefined ? null : Number(m[1]);
}

export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  /** -1 until the file is open. */
  fd = -1;
  /** Resolves with the fd once the file is open. */
  readonly ready: Promise<number>;
  /** Bytes assigned to batches (including writes that are still in flight or not yet fsynced). */
  size = 0;
  /** Bytes known durable: readers never go past this. */
  visibleSize = 0;
  /** The offset after the last batch assigned to this segment. */
  nextOffset: number;
  /** Largest maxTimestamp among this segment's batches, -1 when none. */
  maxTimestamp = -1;

  private readonly idxOffsets: number[] = [];
  private readonly idxPositions: number[] = [];
  private readonly idxMaxTs: number[] = [];
  private bytesSinceIndex = 0;
  private refs = 0;
  private closeRequested = false;
  private closed: Promise<void> | null = null;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    open: Promise<number>,
  ) {
    this.logPath = join(dir, segmentFileName(baseOffset, 'log'));
    this.indexPath = join(dir, segmentFileName(baseOffset, 'index'));
    this.nextOffset = baseOffset;
    this.ready = open.then((fd) => {
      this.fd = fd;
      return fd;
    });
    // Callers observe failures through ready/write; this keeps an unobserved rejection from crashing.
    this.ready.catch(() => undefined);
  }

  /** Creates (or empties) the segment file; the fd arrives asynchronously (writes wait for it). */
  static create(dir: string, baseOffset: number): Segment {
    return new Segment(dir, baseOffset, openFile(join(dir, segmentFileName(baseOffset, 'log')), 'w+'));
  }

  /** Opens an existing segment file for reading and writing. */
  static async openExisting(dir: string, baseOffset: number): Promise<Segment> {
    const segment = new Segment(
      dir,
      baseOffset,
      openFile(join(dir, segmentFileName(baseOffset, 'log')), 'r+'),
    );
    await segment.ready;
    return segment;
  }

  /** Registers a batch appended at `position` (in file order). */
  addBatch(
    baseOffset: number,
    lastOffset: number,
    position: number,
    size: number,
    maxTimestamp: number,
  ): void {
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    if (this.idxOffsets.length === 0 || this.bytesSinceIndex >= INDEX_INTERVAL_BYTES) {
      this.idxOffsets.push(baseOffset);
      this.idxPositions.push(position);
      this.idxMaxTs.push(this.maxTimestamp);
      this.bytesSinceIndex = 0;
    }
    this.bytesSinceIndex += size;
    this.nextOffset = lastOffset + 1;
  }

  /** Position of the indexed batch with the largest base offset <= offset (0 when none): scan from there. */
  positionForOffset(offset: number): number {
    let lo = 0;
    let hi = this.idxOffsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.idxOffsets[mid] as number) <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? 0 : (this.idxPositions[found] as number);
  }

  /** A position at or before the first batch whose maxTimestamp >= timestamp. */
  positionForTimestamp(timestamp: number): number {
    let lo = 0;
    let hi = this.idxMaxTs.length - 1;
    let found = this.idxMaxTs.length;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.idxMaxTs[mid] as number) >= timestamp) {
        found = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    const from = found - 1;
    return from < 0 ? 0 : (this.idxPositions[from] as number);
  }

  get indexEntryCount(): number {
    return this.idxOffsets.length;
  }

  indexBytes(): Buffer {
    const out = Buffer.allocUnsafe(this.idxOffsets.length * INDEX_ENTRY_SIZE);
    for (let i = 0; i < this.idxOffsets.length; i++) {
      const p = i * INDEX_ENTRY_SIZE;
      out.writeInt32BE((this.idxOffsets[i] as number) - this.baseOffset, p);
      out.writeUInt32BE(this.idxPositions[i] as number, p + 4);
      out.writeBigInt64BE(BigInt(this.idxMaxTs[i] as number), p + 8);
    }
    return out;
  }

  /** Best effort (the index is rebuilt on recovery): write the .index file. */
  async writeIndexFile(): Promise<void> {
    await fsp.writeFile(this.indexPath, this.indexBytes());
  }

  write(buf: Buffer, position: number): Promise<void> {
    if (this.fd >= 0) return writeAll(this.fd, buf, position);
    return this.ready.then((fd) => writeAll(fd, buf, position));
  }

  read(position: number, length: number): Promise<Buffer> {
    return readAt(this.fd, length, position);
  }

  async sync(): Promise<void> {
    await fdatasync(await this.ready);
  }

  /** True once close() was called (the fd may still be open for reads in flight). */
  get closing(): boolean {
    return this.closeRequested;
  }

  /** Keeps the fd open across an asynchronous read. */
  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0 && this.closeRequested) void this.close();
  }

  /** Closes the file now, or once the reads in flight are done. */
  close(): Promise<void> {
    this.closeRequested = true;
    if (this.refs > 0) return Promise.resolve();
    if (this.closed === null) {
      this.closed = this.ready.then(
        (fd) => {
          this.fd = -1;
          return closeFile(fd).catch(() => undefined);
        },
        () => undefined,
      );
    }
    return this.closed;
  }
}
