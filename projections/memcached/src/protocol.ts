import type { Client, Response, Server } from 'memjs';

/**
 * The few memcached binary-protocol requests the sink needs, sent through memjs's lower-level API.
 * memjs 1.3 has no CAS: its get() drops the CAS value of the response and its set() never sends one. The
 * binary protocol carries CAS in every response header and honours it in a SET request header, so we build
 * those requests ourselves and let memjs do connection handling, server selection (client.server(key)),
 * sequencing and response matching. Requests are pipelined on memjs's one connection per server: issue many
 * before awaiting any.
 */

export const Opcode = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04 } as const;

export const Status = {
  ok: 0x0000,
  keyNotFound: 0x0001,
  /** ADD of an existing key, or SET with a CAS that no longer matches. */
  keyExists: 0x0002,
  valueTooLarge: 0x0003,
  notStored: 0x0005,
} as const;

export interface McResponse {
  status: number;
  /** 8 bytes; echo it in a SET to make the SET conditional on nothing having changed the item since. */
  cas: Buffer;
  value: Buffer;
}

/** Flags (4 bytes) and expiry (4 bytes): both 0, i.e. no flags and never expire. */
const STORE_EXTRAS = Buffer.alloc(8);
const NO_BYTES = Buffer.alloc(0);

export function buildRequest(
  opcode: number,
  key: string,
  extras: Buffer,
  value: Buffer,
  opaque: number,
  cas?: Buffer,
): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const request = Buffer.alloc(24 + extras.length + keyBytes + value.length);
  request.writeUInt8(0x80, 0); // request magic
  request.writeUInt8(opcode, 1);
  request.writeUInt16BE(keyBytes, 2);
  request.writeUInt8(extras.length, 4);
  // byte 5 data type 0, bytes 6-7 reserved 0
  request.writeUInt32BE(extras.length + keyBytes + value.length, 8);
  request.writeUInt32BE(opaque >>> 0, 12);
  if (cas) cas.copy(request, 16, 0, 8);
  extras.copy(request, 24);
  request.write(key, 24 + extras.length);
  value.copy(request, 24 + extras.length + keyBytes);
  return request;
}

interface Outstanding {
  requests: Buffer[];
  settled: number;
  timer?: NodeJS.Timeout;
}

function settle(group: Outstanding): void {
  group.settled++;
  if (group.settled === group.requests.length && group.timer) clearTimeout(group.timer);
}

/**
 * Sends requests through memjs's server objects but writes them in bulk: every request issued in the same tick
 * for the same server goes out in one socket write (memjs's perform() does one write, i.e. one syscall, per
 * request, which capped a 5,000-write commit at ~20k writes/s). memjs still matches responses to requests by
 * their opaque sequence number and fails them all when the connection breaks.
 */
export class BinaryProtocol {
  private readonly queued = new Map<Server, Outstanding>();
  private flushScheduled = false;

  /** `timeoutMs`: a written group of requests that gets no complete answer in time resets the connection. */
  constructor(
    private readonly client: Client,
    private readonly timeoutMs = 10_000,
  ) {}

  private send(
    opcode: number,
    key: string,
    extras: Buffer,
    value: Buffer,
    cas?: Buffer,
  ): Promise<McResponse> {
    return new Promise((resolve, reject) => {
      const server = this.client.server(key);
      if (!server) {
        reject(new Error('memcached: no server available'));
        return;
      }
      this.client.incrSeq();
      const seq = this.client.seq;
      let group = this.queued.get(server);
      if (!group) {
        group = { requests: [], settled: 0 };
        this.queued.set(server, group);
      }
      const mine = group;
      mine.requests.push(buildRequest(opcode, key, extras, value, seq, cas));
      server.onResponse(seq, (response: Response) => {
        settle(mine);
        resolve({
          status: response.header.status ?? 0,
          cas: response.header.cas ?? Buffer.alloc(8),
          value: response.val,
        });
      });
      server.onError(seq, (error: Error | string) => {
        settle(mine);
        // memjs reports some failures as strings.
        reject(error instanceof Error ? error : new Error(`memcached: ${error}`));
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [server, group] of this.queued) {
      const { requests } = group;
      server.write(requests.length === 1 ? (requests[0] as Buffer) : Buffer.concat(requests));
      group.timer = setTimeout(() => {
        if (group.settled < requests.length) {
          // Fails every request pending on this connection (ours and other callers'), and reconnects next time.
          server.error(
            new Error(`memcached: no response from ${server.host}:${server.port} in ${this.timeoutMs} ms`),
          );
        }
      }, this.timeoutMs);
      group.timer.unref();
    }
    this.queued.clear();
  }

  get(key: string): Promise<McResponse> {
    return this.send(Opcode.get, key, NO_BYTES, NO_BYTES);
  }

  /** Unconditional SET, or with `cas` a compare-and-set (keyExists: changed meanwhile; keyNotFound: gone). */
  set(key: string, value: Buffer, cas?: Buffer): Promise<McResponse> {
    return this.send(Opcode.set, key, STORE_EXTRAS, value, cas);
  }

  /** Stores only if the key is missing (keyExists otherwise). */
  add(key: string, value: Buffer): Promise<McResponse> {
    return this.send(Opcode.add, key, STORE_EXTRAS, value);
  }

  delete(key: string): Promise<McResponse> {
    return this.send(Opcode.delete, key, NO_BYTES, NO_BYTES);
  }
}
