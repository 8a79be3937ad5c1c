import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { ApiKey } from '@tidemark/http';
import type { ContextDefinition } from '@tidemark/sdk';
import type { Logger } from 'pino';
import type { CommandTransport } from './transport/command-transport';

/**
 * An API key (@tidemark/http): its id is recorded as the command's metadata.principal; its scopes are
 * `commands:write:<ctx>`, `commands:read:<ctx>`, `commands:write:*` / `commands:read:*` (every context),
 * `commands:*` or `*` (everything).
 */
export type { ApiKey };

export interface GatewayOptions {
  contexts: ContextDefinition[];
  transport: CommandTransport;
  apiKeys: ApiKey[];
  /** How long a POST waits for the command's outcome before answering 503 COMMAND_PENDING (default 5000). */
  waitTimeoutMs?: number;
  /** Commands waiting at once before answering 429 TOO_MANY_IN_FLIGHT (default 1024). */
  maxInFlight?: number;
  /** Largest accepted request body (default 1 MiB); larger ones get 413 PAYLOAD_TOO_LARGE. */
  maxBodyBytes?: number;
  logger?: Logger;
}

/** nestjs/cqrs-style async configuration: the transport and the options are injected, never reached for. */
export interface GatewayModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: FactoryProvider<GatewayOptions>['inject'];
  useFactory: FactoryProvider<GatewayOptions>['useFactory'];
}

export const DEFAULT_WAIT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_IN_FLIGHT = 1024;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The options with their defaults applied. */
export interface ResolvedGatewayOptions {
  contexts: ReadonlyMap<string, ContextDefinition>;
  apiKeys: readonly ApiKey[];
  waitTimeoutMs: number;
  maxInFlight: number;
  maxBodyBytes: number;
}

export function resolveOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const contexts = new Map<string, ContextDefinition>();
  for (const context of options.contexts) {
    if (contexts.has(context.name)) throw new Error(`context '${context.name}' is defined twice`);
    contexts.set(context.name, context);
  }
  const ids = new Set<string>();
  for (const key of options.apiKeys) {
    if (!key.id || !key.secret) throw new Error('an API key needs an id and a secret');
    if (ids.has(key.id)) throw new Error(`API key id '${key.id}' is defined twice`);
    ids.add(key.id);
  }
  const positive = (name: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
    return v;
  };
  return {
    contexts,
    apiKeys: options.apiKeys,
    waitTimeoutMs: positive('waitTimeoutMs', options.waitTimeoutMs, DEFAULT_WAIT_TIMEOUT_MS),
    maxInFlight: Math.floor(positive('maxInFlight', options.maxInFlight, DEFAULT_MAX_IN_FLIGHT)),
    maxBodyBytes: Math.floor(positive('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES)),
  };
}
