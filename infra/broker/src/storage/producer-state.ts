/**
 * Idempotent / transactional producer state of one partition, per producer id: the current epoch, the last
 * five batches (sequence range and offsets) for duplicate detection, and the open transaction's first offset.
 */
import { ErrorCode, INT32_MAX, KafkaError, lastSequenceOf } from '@tidemark/kafka-protocol';

export const MAX_TRACKED_BATCHES = 5;

export interface ProducerBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  /** Oldest first, at most MAX_TRACKED_BATCHES, all of the current epoch. */
  batches: ProducerBatch[];
  /** First offset of the open transaction on this partition, -1 when none. */
  txnFirstOffset: number;
}

/** What a client batch needs for the producer checks. */
export interface ProducerBatchInfo {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (lastSeq === INT32_MAX && nextSeq === 0);
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();

  get(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<ProducerEntry> {
    return this.producers.values();
  }

  get size(): number {
    return this.producers.size;
  }

  /**
   * Checks a client batch against the producer's state without changing it. Returns the original batch when
   * this is an exact duplicate of one of the last five (same epoch, same first and last sequence), null when
   * it is a new batch in sequence. Throws INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  check(info: ProducerBatchInfo): ProducerBatch | null {
    const entry = this.producers.get(info.producerId);
    const lastSeq = lastSequenceOf(info.baseSequence, info.lastOffsetDelta);
    if (entry === undefined) {
      if (info.baseSequence !== 0) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `unknown producer ${info.producerId} must start at sequence 0, got ${info.baseSequence}`,
        );
      }
      return null;
    }
    if (info.producerEpoch === entry.epoch) {
      for (const b of entry.batches) {
        if (b.firstSeq === info.baseSequence && b.lastSeq === lastSeq) return b;
      }
    }
    if (info.producerEpoch < entry.epoch) {
      throw new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${info.producerId} epoch ${info.producerEpoch} is older than the current epoch ${entry.epoch}`,
      );
    }
    if (info.producerEpoch > entry.epoch) {
      if (info.baseSequence !== 0) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${info.producerId} new epoch ${info.producerEpoch} must start at sequence 0, got ${info.baseSequence}`,
        );
      }
      return null;
    }
    const last = entry.batches[entry.batches.length - 1];
    const expected = last === undefined ? 0 : last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1;
    const ok = last === undefined ? info.baseSequence === 0 : inSequence(last.lastSeq, info.baseSequence);
    if (!ok) {
      throw new KafkaError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${info.producerId} expected sequence ${expected}, got ${info.baseSequence}`,
      );
    }
    return null;
  }

  /**
   * Records an appended data batch (already checked, or read back during recovery). Returns true when this
   * batch opened a transaction (transactional and none was open).
   */
  recordBatch(info: ProducerBatchInfo, firstOffset: number, transactional: boolean): boolean {
    let entry = this.producers.get(info.producerId);
    if (entry === undefined) {
      entry = { producerId: info.producerId, epoch: info.producerEpoch, batches: [], txnFirstOffset: -1 };
      this.producers.set(info.producerId, entry);
    } else if (info.producerEpoch !== entry.epoch) {
      entry.epoch = info.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({
      firstSeq: info.baseSequence,
      lastSeq: lastSequenceOf(info.baseSequence, info.lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + info.lastOffsetDelta,
    });
    if (entry.batches.length > MAX_TRACKED_BATCHES) entry.batches.shift();
    if (transactional && entry.txnFirstOffset < 0) {
      entry.txnFirstOffset = firstOffset;
      return true;
    }
    return false;
  }

  /** Throws INVALID_PRODUCER_EPOCH when a marker's epoch is below the producer's current epoch. */
  checkMarker(producerId: number, epoch: number): void {
    const entry = this.producers.get(producerId);
    if (entry !== undefined && epoch < entry.epoch) {
      throw new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `marker epoch ${epoch} is older than producer ${producerId}'s epoch ${entry.epoch}`,
      );
    }
  }

  /**
   * Applies an end-transaction marker: a higher epoch becomes the producer's epoch (fencing older writers and
   * restarting its sequences), and the open transaction closes. Returns the closed transaction's first offset,
   * or -1 when none was open.
   */
  applyMarker(producerId: number, epoch: number): number {
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [], txnFirstOffset: -1 };
      this.producers.set(producerId, entry);
    } else if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    const first = entry.txnFirstOffset;
    entry.txnFirstOffset = -1;
    return first;
  }
}
