import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C (Castagnoli) of `data`, as an unsigned 32-bit number. Native (SSE4.2 / ARMv8 CRC when available). */
export function crc32c(data: Uint8Array): number {
  return nativeCrc32c(data) >>> 0;
}
