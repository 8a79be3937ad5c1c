export { type RedisKeyspace, redisKeyspace } from './keys';
export { COMMIT_SCRIPT, COMMIT_SCRIPT_SHA1 } from './script';
export { createRedisSink, decodeRedisValue, encodeRedisValue, type RedisSinkOptions } from './sink';
