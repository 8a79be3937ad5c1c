/**
 * Loose types for kafkajs 2.2.4's internal protocol codecs used as recorded client bytes by the protocol tests:
 * `requests/<api>/v<N>/request` builds what kafkajs sends, `requests/<api>/v<N>/response` parses what it
 * receives, and `protocol/encoder` / `protocol/request` are its primitive encoder and request framing.
 */

declare module 'kafkajs/src/protocol/requests/*/request' {
  interface KafkajsEncoder {
    readonly buffer: Buffer;
  }
  interface KafkajsRequest {
    apiKey: number;
    apiVersion: number;
    apiName: string;
    expectResponse?: () => boolean;
    encode(): Promise<KafkajsEncoder>;
  }
  function createRequest(args?: object): KafkajsRequest;
  export = createRequest;
}

declare module 'kafkajs/src/protocol/requests/*/response' {
  /** Decodes a response body (without the response header). */
  export function decode(body: Buffer): Promise<unknown>;
  /** Throws the kafkajs error for the first failure in a decoded response. */
  export function parse(decoded: unknown): Promise<unknown>;
}

declare module 'kafkajs/src/protocol/encoder' {
  class Encoder {
    constructor(initialSize?: number);
    readonly buffer: Buffer;
    writeInt8(value: number): this;
    writeInt16(value: number): this;
    writeInt32(value: number): this;
    writeInt64(value: number | string): this;
    writeBoolean(value: boolean): this;
    writeString(value: string | null): this;
    writeBytes(value: Buffer | string | null): this;
    writeVarInt(value: number): this;
    writeUVarInt(value: number): this;
    writeVarLong(value: number | string): this;
    writeUVarIntString(value: string | null): this;
    writeUVarIntBytes(value: Buffer | null): this;
  }
  export = Encoder;
}

declare module 'kafkajs/src/protocol/request' {
  interface FramedRequest {
    readonly buffer: Buffer;
  }
  function frameRequest(args: {
    correlationId: number;
    clientId: string | null;
    request: { apiKey: number; apiVersion: number; encode(): Promise<unknown> };
  }): Promise<FramedRequest>;
  export = frameRequest;
}
