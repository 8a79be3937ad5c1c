/** The pure Kafka protocol codecs, for clients in this repo that need what kafkajs lacks (manual assignment). */
export * from './api-keys';
export * from './error-codes';
export * from './headers';
export * from './messages/fetch';
export * from './messages/list-offsets';
export * from './messages/metadata';
export * from './primitives';
export * from './record-batch';
