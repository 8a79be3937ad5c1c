export { Connection } from './connection';
export { KafkaServer } from './kafka-server';
