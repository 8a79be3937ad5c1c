export {
  CHECKPOINT_SEGMENT,
  encodeKeySegment,
  MEMCACHED_MAX_KEY_BYTES,
  type MemcachedKeyspace,
  memcachedGenerationKey,
  memcachedKeyspace,
} from './keys';
export { BinaryProtocol, buildRequest, type McResponse, Opcode, Status } from './protocol';
export {
  createMemcachedSink,
  DEFAULT_MAX_ITEM_BYTES,
  decodeMemcachedHead,
  decodeMemcachedValue,
  encodeMemcachedValue,
  type MemcachedSink,
  type MemcachedSinkOptions,
} from './sink';
