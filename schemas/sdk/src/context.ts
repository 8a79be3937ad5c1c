/**
 * A context as a team writes it: its commands and events as zod schemas (events with numbered versions and
 * upcasters), and a pure decider. `defineContext` checks the decider against the schemas at compile time and
 * builds the registries the platform validates and upcasts with. The platform sees every context through the
 * erased `ContextDefinition`; a team's code keeps the precise types and never casts.
 */
import { CommandRegistry, EventRegistry, type EventVersion } from '@tidemark/schemas';
import type { z } from 'zod';
import type { Decider, DomainCommand, DomainEvent } from './decider';

/** Names of topics, consumer groups and metrics come from it: lowercase letters, digits and dashes. */
export const CONTEXT_NAME = /^[a-z][a-z0-9-]{0,48}$/;

/** A command's payload schema, keyed by command type. */
export type CommandSchemas = Record<string, z.ZodType>;

/**
 * The versions of one event type, oldest first, each with the upcaster from the one before. Built with
 * `versioned(v1).next(v2, upcast)...`; the payload a decider or projection sees is the last version's.
 */
export interface VersionedEvent<Latest> {
  readonly versions: readonly EventVersion[];
  /** Adds version N+1: `upcast` turns a payload of version N into the input of the new schema. */
  next<S extends z.ZodType>(schema: S, upcast: (previous: Latest) => z.input<S>): VersionedEvent<z.output<S>>;
  /** Type-level only: the latest payload type. */
  readonly __latest?: Latest;
}

/** Version 1 of an event type; add later versions with `.next(schema, upcast)`. */
export function versioned<S extends z.ZodType>(schema: S): VersionedEvent<z.output<S>> {
  return chain([{ version: 1, schema }]);
}

function chain<Latest>(versions: readonly EventVersion[]): VersionedEvent<Latest> {
  return {
    versions,
    next<S extends z.ZodType>(schema: S, upcast: (previous: Latest) => z.input<S>) {
      // The registry validated the input against the previous version before calling this.
      const step: EventVersion = {
        version: versions.length + 1,
        schema,
        upcast: (previous) => upcast(previous as Latest),
      };
      return chain<z.output<S>>([...versions, step]);
    },
  };
}

/** An event type: one zod schema (a single version) or a versioned chain. */
export type EventSchema = z.ZodType | VersionedEvent<unknown>;
export type EventSchemas = Record<string, EventSchema>;

/** The payload of the latest version of an event schema. */
export type LatestPayload<E> =
  E extends VersionedEvent<infer L> ? L : E extends z.ZodType ? z.output<E> : never;

/** The command union of a command schema record: `{type, payload, context}` per type. */
export type CommandOf<C extends CommandSchemas> = {
  [K in keyof C & string]: DomainCommand<K, z.output<C[K]>>;
}[keyof C & string];

/** The event union of an event schema record: `{type, payload}` per type, payload in its latest version. */
export type EventOf<E extends EventSchemas> = {
  [K in keyof E & string]: DomainEvent<K, LatestPayload<E[K]>>;
}[keyof E & string];

/**
 * Everything the platform needs to host a context. The type parameters are for a team's code; the platform
 * holds `ContextDefinition` (the defaults), to which every typed context is assignable.
 */
export interface ContextDefinition<
  Command extends DomainCommand = DomainCommand,
  Event extends DomainEvent = DomainEvent,
  State = unknown,
> {
  /** Topic prefix: <name>.commands, <name>.events, <name>.command-results. */
  readonly name: string;
  /** The aggregate type written into event envelopes. */
  readonly aggregateType: string;
  readonly commands: CommandRegistry;
  readonly events: EventRegistry;
  readonly decider: Decider<Command, Event, State>;
  /**
   * A folder of recorded payloads, `<EventType>.v<N>.json` (a JSON array each), that every later schema version
   * must still read (`tidemark schemas check`). Optional.
   */
  readonly schemaSamples?: string;
  /**
   * What an aggregate id of this context may be, beyond the platform's 1 to 200 characters: the gateway refuses
   * others (400 COMMAND_INVALID, issue path `aggregateId`) before they reach the log and every view's keys.
   */
  readonly aggregateId?: z.ZodType<string>;
  /** Type-level only: the event union, so that projections of this context are typed from it. */
  readonly __event?: Event;
}

export interface ContextSpec<C extends CommandSchemas, E extends EventSchemas, State> {
  name: string;
  aggregateType: string;
  commands: C;
  events: E;
  decider: Decider<CommandOf<C>, EventOf<E>, State>;
  schemaSamples?: string;
  aggregateId?: z.ZodType<string>;
}

/** Defines a context: the decider is checked against the schemas here, and the registries are built. */
export function defineContext<const C extends CommandSchemas, const E extends EventSchemas, State>(
  spec: ContextSpec<C, E, State>,
): ContextDefinition<CommandOf<C>, EventOf<E>, State> {
  if (!CONTEXT_NAME.test(spec.name)) {
    throw new Error(
      `context name '${spec.name}' must be lowercase letters, digits and dashes, starting with a letter (at most 49)`,
    );
  }
  if (spec.aggregateType.length === 0 || spec.aggregateType.length > 100) {
    throw new Error(`context ${spec.name}: aggregateType must be 1 to 100 characters`);
  }
  const events = new EventRegistry(
    Object.entries(spec.events).map(([type, schema]) => ({
      type,
      versions: isVersioned(schema) ? [...schema.versions] : [{ version: 1, schema }],
    })),
  );
  return {
    name: spec.name,
    aggregateType: spec.aggregateType,
    commands: new CommandRegistry(spec.commands),
    events,
    decider: spec.decider,
    ...(spec.schemaSamples !== undefined ? { schemaSamples: spec.schemaSamples } : {}),
    ...(spec.aggregateId !== undefined ? { aggregateId: spec.aggregateId } : {}),
  };
}

function isVersioned(schema: EventSchema): schema is VersionedEvent<unknown> {
  return Array.isArray((schema as { versions?: unknown }).versions);
}

/** The event union of a context. */
export type ContextEvent<C> = C extends { readonly __event?: infer E extends DomainEvent } ? E : never;
/** The event types of a context. */
export type ContextEventType<C> = ContextEvent<C>['type'];
