/** Nest injection tokens. */
export const GATEWAY_OPTIONS = Symbol.for('tidemark.gateway.options');
export const GATEWAY_OPTIONS_RESOLVED = Symbol.for('tidemark.gateway.options.resolved');
export const COMMAND_TRANSPORT = Symbol.for('tidemark.gateway.transport');
export const GATEWAY_LOGGER = Symbol.for('tidemark.gateway.logger');
