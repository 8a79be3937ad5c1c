/**
 * One client connection: size-prefixed framing, dispatch to the API handlers, and in-order responses.
 *
 * Frames are `INT32 size` + `size` bytes (request header + body). Requests are dispatched to their handler as
 * soon as they are read, without waiting for earlier ones; each dispatched request takes a slot in a FIFO and
 * its response is written only once every earlier slot has been written (librdkafka requires responses in
 * request order). A request without a response (Produce acks=0) releases its slot silently.
 */
import type { Socket } from 'node:net';
import {
  ApiKey,
  apiName,
  decodeRequestHeader,
  ErrorCode,
  encodeApiVersionsResponse,
  encodeResponseHeader,
  Reader,
  type RequestHeader,
  Writer,
} from '@tidemark/kafka-protocol';
import type { Logger } from 'pino';
import { unsupportedApiVersionsResponse } from '../apis/api-versions';
import { type ApiHandler, handlerFor, type RequestContext, supportedApiVersions } from '../apis/registry';
import type { BrokerServices } from '../contracts';

/** Smallest possible request: api key, api version and correlation id. */
const MIN_FRAME_BYTES = 8;
/** Stop reading from a client with this many unanswered requests; resume below the low mark. */
const MAX_IN_FLIGHT = 1024;
const RESUME_IN_FLIGHT = 512;

interface ResponseSlot {
  next: ResponseSlot | null;
  done: boolean;
  /** The framed response, or null when nothing is to be written. */
  chunks: Buffer[] | null;
}

export class Connection {
  readonly clientHost: string;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private closed = false;

  // framing state
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;

  // response FIFO
  private head: ResponseSlot | null = null;
  private tail: ResponseSlot | null = null;
  private inFlight = 0;
  private readPaused = false;
  private writeBlocked = false;

  constructor(
    private readonly socket: Socket,
    private readonly services: BrokerServices,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    const address = socket.remoteAddress ?? 'unknown';
    this.clientHost = `/${address}`;
    this.log = services.logger.child({ peer: `${address}:${socket.remotePort ?? 0}` });
    socket.setNoDelay(true);
    services.metrics.connectionOpened();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateReading();
    });
    socket.on('error', (error) => {
      this.log.debug({ err: error }, 'connection error');
      this.close();
    });
    socket.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the connection: destroys the socket and aborts the signal of every pending request. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.head = null;
    this.tail = null;
    this.abort.abort();
    this.socket.destroy();
    this.services.metrics.connectionClosed();
    this.onClosed(this);
  }

  // ------------------------------------------------------------------ framing

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.services.metrics.bytesIn(chunk.length);
    const length = chunk.length;
    let offset = 0;
    while (offset < length && !this.closed) {
      const frame = this.frame;
      if (frame !== null) {
        const count = Math.min(frame.length - this.frameFilled, length - offset);
        chunk.copy(frame, this.frameFilled, offset, offset + count);
        this.frameFilled += count;
        offset += count;
        if (this.frameFilled === frame.length) {
          this.frame = null;
          this.dispatch(frame);
        }
        continue;
      }
      if (this.sizeFilled === 0 && length - offset >= 4) {
        const size = chunk.readInt32BE(offset);
        if (!this.acceptSize(size)) return;
        offset += 4;
        if (length - offset >= size) {
          // The whole frame is in this chunk: dispatch a view of it (no copy).
          this.dispatch(chunk.subarray(offset, offset + size));
          offset += size;
        } else {
          this.frame = Buffer.allocUnsafe(size);
          this.frameFilled = 0;
        }
        continue;
      }
      // The size prefix itself is split across chunks.
      while (this.sizeFilled < 4 && offset < length) this.sizeBytes[this.sizeFilled++] = chunk[offset++]!;
      if (this.sizeFilled === 4) {
        this.sizeFilled = 0;
        const size = this.sizeBytes.readInt32BE(0);
        if (!this.acceptSize(size)) return;
        this.frame = Buffer.allocUnsafe(size);
        this.frameFilled = 0;
      }
    }
  }

  private acceptSize(size: number): boolean {
    if (size >= MIN_FRAME_BYTES && size <= this.services.config.maxFrameBytes) return true;
    this.log.warn(
      { size, maxFrameBytes: this.services.config.maxFrameBytes },
      'invalid request frame size; closing',
    );
    this.close();
    return false;
  }

  // ------------------------------------------------------------------ dispatch

  private dispatch(frame: Buffer): void {
    const started = performance.now();
    const reader = new Reader(frame);
    let header: RequestHeader;
    try {
      header = decodeRequestHeader(reader);
    } catch (error) {
      this.log.warn({ err: error }, 'undecodable request header; closing');
      this.close();
      return;
    }
    const handler = handlerFor(header.apiKey);
    if (handler === undefined) {
      this.log.warn({ apiKey: header.apiKey, clientId: header.clientId }, 'unsupported api key; closing');
      this.close();
      return;
    }
    if (header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
      this.unsupportedVersion(header, handler, started);
      return;
    }
    let request: unknown;
    try {
      request = handler.decode(reader, header.apiVersion);
    } catch (error) {
      this.log.warn(
        { err: error, api: apiName(header.apiKey), apiVersion: header.apiVersion, clientId: header.clientId },
        'undecodable request; closing',
      );
      this.close();
      return;
    }

    const slot = this.enqueue();
    const ctx: RequestContext = {
      clientId: header.clientId,
      clientHost: this.clientHost,
      apiKey: header.apiKey,
      apiVersion: header.apiVersion,
      correlationId: header.correlationId,
      signal: this.abort.signal,
    };
    let pending: Promise<unknown>;
    try {
      pending = handler.handle(ctx, request, this.services);
    } catch (error) {
      this.handlerFailed(ctx, error, started);
      return;
    }
    void this.complete(slot, handler, ctx, pending, started);
  }

  private unsupportedVersion(header: RequestHeader, handler: ApiHandler, started: number): void {
    if (header.apiKey !== ApiKey.ApiVersions) {
      this.log.warn(
        {
          api: apiName(header.apiKey),
          apiVersion: header.apiVersion,
          supported: `${handler.minVersion}..${handler.maxVersion}`,
          clientId: header.clientId,
        },
        'unsupported api version; closing',
      );
      this.close();
      return;
    }
    // Clients probe ApiVersions with their newest version: answer in the v0 layout with the full list.
    const slot = this.enqueue();
    const writer = this.responseWriter(header.correlationId);
    encodeApiVersionsResponse(writer, unsupportedApiVersionsResponse(supportedApiVersions()), 0);
    this.finishSlot(slot, writer);
    this.services.metrics.requestHandled(
      header.apiKey,
      ErrorCode.UNSUPPORTED_VERSION,
      (performance.now() - started) / 1000,
    );
    this.flush();
  }

  private async complete(
    slot: ResponseSlot,
    handler: ApiHandler,
    ctx: RequestContext,
    pending: Promise<unknown>,
    started: number,
  ): Promise<void> {
    let response: unknown;
    try {
      response = await pending;
    } catch (error) {
      this.handlerFailed(ctx, error, started);
      return;
    }
    if (this.closed) return;
    let errorCode = 0;
    if (response === null) {
      slot.chunks = null;
      slot.done = true;
    } else {
      try {
        const writer = this.responseWriter(ctx.correlationId);
        handler.encode(writer, response, ctx.apiVersion);
        this.finishSlot(slot, writer);
        errorCode = handler.errorCode(response);
      } catch (error) {
        this.handlerFailed(ctx, error, started);
        return;
      }
    }
    this.services.metrics.requestHandled(ctx.apiKey, errorCode, (performance.now() - started) / 1000);
    this.flush();
  }

  private handlerFailed(ctx: RequestContext, error: unknown, started: number): void {
    this.services.metrics.requestHandled(
      ctx.apiKey,
      ErrorCode.UNKNOWN_SERVER_ERROR,
      (performance.now() - started) / 1000,
    );
    if (this.closed) return;
    this.log.error(
      { err: error, api: apiName(ctx.apiKey), apiVersion: ctx.apiVersion, correlationId: ctx.correlationId },
      'request handler failed; closing',
    );
    this.close();
  }

  // ------------------------------------------------------------------ responses

  /** A writer holding the size prefix (patched later) and the response header. */
  private responseWriter(correlationId: number): Writer {
    const writer = new Writer(256);
    writer.int32(0);
    encodeResponseHeader(writer, correlationId);
    return writer;
  }

  private finishSlot(slot: ResponseSlot, writer: Writer): void {
    writer.setInt32At(0, writer.length - 4);
    slot.chunks = writer.toChunks();
    slot.done = true;
  }

  private enqueue(): ResponseSlot {
    const slot: ResponseSlot = { next: null, done: false, chunks: null };
    if (this.tail === null) this.head = slot;
    else this.tail.next = slot;
    this.tail = slot;
    this.inFlight++;
    if (this.inFlight >= MAX_IN_FLIGHT) this.updateReading();
    return slot;
  }

  /** Writes every finished response at the head of the FIFO. */
  private flush(): void {
    let slot = this.head;
    if (slot === null || !slot.done || this.closed) return;
    const socket = this.socket;
    let bytes = 0;
    socket.cork();
    while (slot?.done) {
      const chunks = slot.chunks;
      if (chunks !== null) {
        for (const chunk of chunks) {
          bytes += chunk.length;
          if (!socket.write(chunk)) this.writeBlocked = true;
        }
      }
      slot = slot.next;
      this.inFlight--;
    }
    this.head = slot;
    if (slot === null) this.tail = null;
    socket.uncork();
    if (bytes > 0) this.services.metrics.bytesOut(bytes);
    this.updateReading();
  }

  /** Applies backpressure: stop reading while too many requests are pending or the client is not reading. */
  private updateReading(): void {
    if (this.closed) return;
    const shouldPause = this.writeBlocked || this.inFlight >= MAX_IN_FLIGHT;
    if (shouldPause && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    } else if (!shouldPause && this.readPaused && this.inFlight < RESUME_IN_FLIGHT) {
      this.readPaused = false;
      this.socket.resume();
    }
  }
}
