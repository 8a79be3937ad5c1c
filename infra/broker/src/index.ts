export type { ApiKeyValue, ErrorCodeValue } from '@tidemark/kafka-protocol';
/** @deprecated The codecs are their own package now: import them from @tidemark/kafka-protocol. */
export * as kafkaProtocol from '@tidemark/kafka-protocol';
export { ApiKey, apiName, ErrorCode, errorName, KafkaError, toErrorCode } from '@tidemark/kafka-protocol';
export * from './contracts';
export * from './server/broker';
export { serveMetrics } from './server/metrics';
