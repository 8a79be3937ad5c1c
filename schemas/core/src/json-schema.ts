/**
 * JSON Schemas of everything that crosses a process boundary, for clients in other languages and for review:
 * the envelopes, every command payload and every event payload version of each context. The zod schemas stay
 * the source of truth; this only renders them (z.toJSONSchema, draft 2020-12).
 */
import { type ZodType, z } from 'zod';
import { AppendPayload, CommandEnvelope, CommandRequest, EventEnvelope } from './envelope';
import { CommandOutcome } from './outcome';
import type { CommandRegistry, EventRegistry } from './registry';

export interface SchemaContext {
  name: string;
  commands: CommandRegistry;
  events: EventRegistry;
}

/** The envelopes every context shares. */
const ENVELOPES: Record<string, ZodType> = {
  EventEnvelope,
  CommandEnvelope,
  CommandRequest,
  CommandOutcome,
  AppendPayload,
};

/**
 * Returns file name (relative, '/'-separated) -> JSON Schema:
 *   envelopes/<Name>.schema.json
 *   <context>/commands/<CommandType>.schema.json
 *   <context>/events/<EventType>.v<N>.schema.json
 */
export function exportJsonSchemas(contexts: readonly SchemaContext[]): Record<string, object> {
  const files: Record<string, object> = {};
  for (const [name, schema] of Object.entries(ENVELOPES)) {
    files[`envelopes/${name}.schema.json`] = render(schema, name);
  }
  for (const context of contexts) {
    for (const type of [...context.commands.types()].sort()) {
      const schema = context.commands.schema(type) as ZodType;
      files[`${context.name}/commands/${type}.schema.json`] = render(
        schema,
        `${context.name} command ${type}`,
      );
    }
    for (const type of [...context.events.types()].sort()) {
      for (const version of context.events.definition(type).versions) {
        files[`${context.name}/events/${type}.v${version.version}.schema.json`] = render(
          version.schema,
          `${context.name} event ${type} v${version.version}`,
        );
      }
    }
  }
  return files;
}

function render(schema: ZodType, title: string): object {
  // 'input': what a producer may send (before defaults and transforms), which is what an outside client needs.
  // 'any' for what JSON Schema cannot say (custom refinements) rather than failing the whole export.
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return { ...json, title };
}
