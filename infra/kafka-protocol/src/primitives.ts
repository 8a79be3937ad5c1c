/**
 * Kafka wire primitives: a bounds-checked `Reader` over one request frame and a growable `Writer` for
 * responses.
 *
 * Encodings (all big-endian):
 *   INT8/16/32/64, UINT32          fixed width; INT64 is surfaced as a JS number (offsets stay below 2^53)
 *   BOOLEAN                        INT8, non-zero = true
 *   VARINT / VARLONG               zigzag-encoded base-128 (record format)
 *   UNSIGNED_VARINT                base-128, 7 bits per byte, low group first
 *   STRING / NULLABLE_STRING       INT16 length (-1 = null) + UTF-8 bytes
 *   BYTES / NULLABLE_BYTES         INT32 length (-1 = null) + bytes
 *   ARRAY                          INT32 count (-1 = null) + elements
 *   COMPACT_* (flexible versions)  UNSIGNED_VARINT (length + 1), 0 = null
 *   TAGGED_FIELDS                  UNSIGNED_VARINT count, then (tag UNSIGNED_VARINT, size UNSIGNED_VARINT, data)
 */

/** Thrown for any malformed or truncated input; the network layer closes the connection. */
export class ProtocolDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolDecodeError';
  }
}

const TWO_POW_32 = 4294967296;

export class Reader {
  /** Current read position, absolute within `buffer`. */
  offset: number;
  readonly end: number;

  constructor(
    readonly buffer: Buffer,
    offset = 0,
    end: number = buffer.length,
  ) {
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(count: number, what: string): number {
    const at = this.offset;
    if (at + count > this.end) {
      throw new ProtocolDecodeError(`truncated ${what}: need ${count} bytes at ${at}, have ${this.end - at}`);
    }
    this.offset = at + count;
    return at;
  }

  int8(): number {
    return this.buffer.readInt8(this.need(1, 'int8'));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.need(2, 'int16'));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.need(4, 'int32'));
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.need(4, 'uint32'));
  }

  /** INT64 as a JS number (exact below 2^53). */
  int64(): number {
    const at = this.need(8, 'int64');
    return this.buffer.readInt32BE(at) * TWO_POW_32 + this.buffer.readUInt32BE(at + 4);
  }

  boolean(): boolean {
    return this.buffer[this.need(1, 'boolean')] !== 0;
  }

  /** UNSIGNED_VARINT (up to 32 bits). */
  uvarint(): number {
    let result = 0;
    let factor = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.buffer[this.need(1, 'varint')] as number;
      result += (byte & 0x7f) * factor;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw new ProtocolDecodeError('unsigned varint exceeds 32 bits');
        return result;
      }
      factor *= 128;
    }
    throw new ProtocolDecodeError('unsigned varint longer than 5 bytes');
  }

  /** VARINT: zigzag-encoded signed 32-bit. */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** VARLONG: zigzag-encoded signed 64-bit, as a JS number. */
  varlong(): number {
    let result = 0;
    let factor = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.buffer[this.need(1, 'varlong')] as number;
      result += (byte & 0x7f) * factor;
      if ((byte & 0x80) === 0) {
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
      factor *= 128;
    }
    throw new ProtocolDecodeError('varlong longer than 10 bytes');
  }

  private utf8(length: number): string {
    const at = this.need(length, 'string');
    return this.buffer.toString('utf8', at, at + length);
  }

  /** STRING: a null (-1) length is a protocol error. */
  string(): string {
    const length = this.int16();
    if (length < 0) throw new ProtocolDecodeError(`non-nullable string has length ${length}`);
    return this.utf8(length);
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`invalid string length ${length}`);
    return this.utf8(length);
  }

  /** A view of `length` bytes of the frame (no copy). */
  raw(length: number): Buffer {
    const at = this.need(length, 'bytes');
    return this.buffer.subarray(at, at + length);
  }

  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) throw new ProtocolDecodeError(`non-nullable bytes have length ${length}`);
    return this.raw(length);
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`invalid bytes length ${length}`);
    return this.raw(length);
  }

  /** INT32 element count of an ARRAY; -1 for null. Rejects counts that cannot fit the remaining bytes. */
  arrayLength(): number {
    const length = this.int32();
    if (length === -1) return -1;
    if (length < 0 || length > this.end - this.offset) {
      throw new ProtocolDecodeError(`invalid array length ${length}`);
    }
    return length;
  }

  array<T>(read: (reader: Reader) => T): T[] {
    const length = this.arrayLength();
    if (length < 0) throw new ProtocolDecodeError('non-nullable array is null');
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = read(this);
    return out;
  }

  nullableArray<T>(read: (reader: Reader) => T): T[] | null {
    const length = this.arrayLength();
    if (length < 0) return null;
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = read(this);
    return out;
  }

  int32Array(): number[] {
    const length = this.arrayLength();
    if (length < 0) throw new ProtocolDecodeError('non-nullable array is null');
    const out = new Array<number>(length);
    for (let i = 0; i < length; i++) out[i] = this.int32();
    return out;
  }

  stringArray(): string[] {
    const length = this.arrayLength();
    if (length < 0) throw new ProtocolDecodeError('non-nullable array is null');
    const out = new Array<string>(length);
    for (let i = 0; i < length; i++) out[i] = this.string();
    return out;
  }

  // ------------------------------------------------------------ compact (flexible versions)

  /** Compact length: UNSIGNED_VARINT (n + 1); returns -1 for null. */
  private compactLength(what: string): number {
    const lengthPlusOne = this.uvarint();
    const length = lengthPlusOne - 1;
    if (length > this.end - this.offset)
      throw new ProtocolDecodeError(`invalid compact ${what} length ${length}`);
    return length;
  }

  compactString(): string {
    const length = this.compactLength('string');
    if (length < 0) throw new ProtocolDecodeError('non-nullable compact string is null');
    return this.utf8(length);
  }

  compactNullableString(): string | null {
    const length = this.compactLength('string');
    return length < 0 ? null : this.utf8(length);
  }

  compactBytes(): Buffer {
    const length = this.compactLength('bytes');
    if (length < 0) throw new ProtocolDecodeError('non-nullable compact bytes are null');
    return this.raw(length);
  }

  compactNullableBytes(): Buffer | null {
    const length = this.compactLength('bytes');
    return length < 0 ? null : this.raw(length);
  }

  /** Element count of a COMPACT_ARRAY; -1 for null. */
  compactArrayLength(): number {
    return this.compactLength('array');
  }

  compactArray<T>(read: (reader: Reader) => T): T[] {
    const length = this.compactArrayLength();
    if (length < 0) throw new ProtocolDecodeError('non-nullable compact array is null');
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = read(this);
    return out;
  }

  compactNullableArray<T>(read: (reader: Reader) => T): T[] | null {
    const length = this.compactArrayLength();
    if (length < 0) return null;
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = read(this);
    return out;
  }

  /** Skips a TAGGED_FIELDS section (no tags are understood by this broker). */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size, 'tagged field');
    }
  }
}

/** Byte views at least this large are attached by reference instead of copied. */
const ATTACH_THRESHOLD = 1024;

/**
 * Growable output buffer. When the current buffer fills, the filled part is kept as a chunk and a larger
 * buffer is started (no copying on growth); large byte views (record data) are attached by reference.
 * `toChunks()` hands the pieces to a socket without a final copy; `toBuffer()` joins them.
 */
export class Writer {
  private chunks: Buffer[] | null = null;
  private chunkedBytes = 0;
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Total bytes written. */
  get length(): number {
    return this.chunkedBytes + this.pos;
  }

  private ensure(count: number): void {
    if (this.pos + count <= this.buf.length) return;
    if (this.pos > 0) this.pushChunk(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(count, this.buf.length * 2, 256));
    this.pos = 0;
  }

  private pushChunk(chunk: Buffer): void {
    if (this.chunks === null) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.chunkedBytes += chunk.length;
  }

  int8(value: number): this {
    this.ensure(1);
    this.pos = this.buf.writeInt8(value, this.pos);
    return this;
  }

  int16(value: number): this {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(value, this.pos);
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(value, this.pos);
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(value, this.pos);
    return this;
  }

  /** INT64 from a JS number (exact below 2^53). */
  int64(value: number): this {
    this.ensure(8);
    const high = Math.floor(value / TWO_POW_32);
    const low = value - high * TWO_POW_32;
    this.buf.writeInt32BE(high, this.pos);
    this.pos = this.buf.writeUInt32BE(low, this.pos + 4);
    return this;
  }

  boolean(value: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
    return this;
  }

  /** UNSIGNED_VARINT (0 .. 2^32-1). */
  uvarint(value: number): this {
    this.ensure(5);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
    return this;
  }

  /** VARINT: zigzag signed 32-bit. */
  varint(value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** VARLONG: zigzag signed 64-bit from a JS number. */
  varlong(value: number): this {
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    this.ensure(10);
    while (zigzag >= 0x80) {
      this.buf[this.pos++] = (zigzag % 128) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    this.buf[this.pos++] = zigzag;
    return this;
  }

  private utf8(value: string, length: number): void {
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, length, 'utf8');
  }

  string(value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.int16(length);
    this.utf8(value, length);
    return this;
  }

  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  /** Appends bytes as they are (no length prefix). Large views are attached, not copied. */
  raw(value: Buffer): this {
    const length = value.length;
    if (length >= ATTACH_THRESHOLD) {
      if (this.pos > 0) {
        this.pushChunk(this.buf.subarray(0, this.pos));
        this.buf = this.buf.subarray(this.pos);
        this.pos = 0;
      }
      this.pushChunk(value);
      return this;
    }
    this.ensure(length);
    value.copy(this.buf, this.pos);
    this.pos += length;
    return this;
  }

  bytes(value: Buffer): this {
    this.int32(value.length);
    return this.raw(value);
  }

  nullableBytes(value: Buffer | null): this {
    return value === null ? this.int32(-1) : this.bytes(value);
  }

  /** INT32 element count of an ARRAY (-1 for null). */
  arrayLength(count: number): this {
    return this.int32(count);
  }

  array<T>(items: readonly T[], write: (writer: Writer, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null, write: (writer: Writer, item: T) => void): this {
    return items === null ? this.int32(-1) : this.array(items, write);
  }

  int32Array(items: readonly number[]): this {
    this.int32(items.length);
    for (const item of items) this.int32(item);
    return this;
  }

  stringArray(items: readonly string[]): this {
    this.int32(items.length);
    for (const item of items) this.string(item);
    return this;
  }

  // ------------------------------------------------------------ compact (flexible versions)

  compactString(value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.uvarint(length + 1);
    this.utf8(value, length);
    return this;
  }

  compactNullableString(value: string | null): this {
    return value === null ? this.uvarint(0) : this.compactString(value);
  }

  compactBytes(value: Buffer): this {
    this.uvarint(value.length + 1);
    return this.raw(value);
  }

  compactNullableBytes(value: Buffer | null): this {
    return value === null ? this.uvarint(0) : this.compactBytes(value);
  }

  /** Element count of a COMPACT_ARRAY (-1 for null). */
  compactArrayLength(count: number): this {
    return this.uvarint(count + 1);
  }

  compactArray<T>(items: readonly T[], write: (writer: Writer, item: T) => void): this {
    this.uvarint(items.length + 1);
    for (const item of items) write(this, item);
    return this;
  }

  /** An empty TAGGED_FIELDS section. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Overwrites 4 bytes at an absolute position already written (e.g. a size prefix). */
  setInt32At(position: number, value: number): void {
    let base = 0;
    if (this.chunks !== null) {
      for (const chunk of this.chunks) {
        if (position < base + chunk.length) {
          if (position + 4 > base + chunk.length) throw new RangeError('setInt32At spans chunks');
          chunk.writeInt32BE(value, position - base);
          return;
        }
        base += chunk.length;
      }
    }
    if (position - base + 4 > this.pos) throw new RangeError('setInt32At beyond written bytes');
    this.buf.writeInt32BE(value, position - base);
  }

  /** The written bytes as one or more buffers, in order (no copy). */
  toChunks(): Buffer[] {
    const tail = this.buf.subarray(0, this.pos);
    if (this.chunks === null) return [tail];
    return this.pos > 0 ? [...this.chunks, tail] : this.chunks.slice();
  }

  /** The written bytes as one buffer (copies only when the output spans several chunks). */
  toBuffer(): Buffer {
    if (this.chunks === null) return this.buf.subarray(0, this.pos);
    return Buffer.concat(this.toChunks(), this.length);
  }
}
