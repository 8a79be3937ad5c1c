export { ErrorBody } from '@tidemark/http';
export type { RunningGateway } from './app';
export { createGatewayApp, startGateway } from './app';
export { GatewayModule } from './gateway.module';
export type { AcceptedAnswer, SubmitInput } from './http/command.service';
export { CommandService, toAnswer } from './http/command.service';
export { createGatewayLogger } from './logger';
export { GatewayMetrics } from './metrics';
export { buildOpenApiDocument, OpenApiDocument } from './openapi';
export type { ApiKey, GatewayModuleAsyncOptions, GatewayOptions, ResolvedGatewayOptions } from './options';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_WAIT_TIMEOUT_MS,
  resolveOptions,
} from './options';
export { COMMAND_TRANSPORT, GATEWAY_LOGGER, GATEWAY_OPTIONS, GATEWAY_OPTIONS_RESOLVED } from './tokens';
export type { CommandTransport } from './transport/command-transport';
export { logUnavailable } from './transport/command-transport';
export type { KafkaCommandTransportOptions } from './transport/kafka-command-transport';
export { KafkaCommandTransport } from './transport/kafka-command-transport';
export { DEFAULT_OUTCOME_CACHE_SIZE, OutcomeBook } from './transport/outcome-book';
