/**
 * The pure Kafka wire-protocol codecs: primitives, request/response headers, record batches (v2) and one
 * request/response codec per API under messages/ (its grammar as a comment). No sockets, no state, nothing of
 * Tidemark's: the embedded broker serves with them, and clients in this repo that need what kafkajs lacks
 * (manual assignment: @tidemark/kafka's partition reader) speak with them.
 */
export * from './api-keys';
export * from './crc32c';
export * from './error-codes';
export * from './headers';
export * from './messages/add-offsets-to-txn';
export * from './messages/add-partitions-to-txn';
export * from './messages/api-versions';
export * from './messages/create-topics';
export * from './messages/delete-topics';
export * from './messages/describe-groups';
export * from './messages/end-txn';
export * from './messages/fetch';
export * from './messages/find-coordinator';
export * from './messages/heartbeat';
export * from './messages/init-producer-id';
export * from './messages/join-group';
export * from './messages/leave-group';
export * from './messages/list-groups';
export * from './messages/list-offsets';
export * from './messages/metadata';
export * from './messages/offset-commit';
export * from './messages/offset-fetch';
export * from './messages/produce';
export * from './messages/sync-group';
export * from './messages/txn-offset-commit';
export * from './primitives';
export * from './record-batch';
