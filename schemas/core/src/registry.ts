/**
 * Event and command registries: every event type has numbered schema versions, each with an upcaster from the
 * previous version, so that events written under an old version are read as the latest. Commands have one
 * payload schema per type. Validation failures are TidemarkErrors with the zod issues listed.
 */
import type { ZodType } from 'zod';
import { TidemarkError } from './errors';

export interface Issue {
  path: string;
  message: string;
}

export interface EventVersion {
  version: number;
  schema: ZodType;
  /** Turns a payload of version - 1 into this version (absent for version 1). */
  upcast?: (previous: unknown) => unknown;
}

export interface EventTypeDefinition {
  type: string;
  /** Versions 1..N in order. */
  versions: EventVersion[];
}

export function zodIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((part) => String(part)).join('.') || '(root)',
    message: issue.message,
  }));
}

export class EventRegistry {
  private readonly byType = new Map<string, EventTypeDefinition>();
  /**
   * Marks payloads this registry has read (validated and upcast to the latest version): reading one again (the
   * projector runtime reads, then a projection reads the same payload) returns it without a second zod pass. A
   * non-enumerable symbol property rather than a WeakMap: a million live WeakMap entries (ephemerons) made every
   * garbage collection of a catching-up projector slower. Spread, JSON and deepEqual do not see it.
   */
  private readonly readMark = Symbol('tidemark.read');

  constructor(definitions: EventTypeDefinition[]) {
    for (const definition of definitions) {
      definition.versions.forEach((v, i) => {
        if (v.version !== i + 1) throw new Error(`${definition.type}: versions must be 1..N in order`);
        if (i > 0 && !v.upcast)
          throw new Error(`${definition.type} v${v.version}: an upcaster from v${i} is required`);
      });
      this.byType.set(definition.type, definition);
    }
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  definition(type: string): EventTypeDefinition {
    const definition = this.byType.get(type);
    if (!definition)
      throw new TidemarkError('EVENT_TYPE_UNKNOWN', `unknown event type '${type}'`, 400, false);
    return definition;
  }

  latestVersion(type: string): number {
    return this.definition(type).versions.length;
  }

  /** Validates a new event's payload against the latest schema; returns the parsed payload. */
  validateNew(type: string, payload: unknown): unknown {
    const latest = this.definition(type).versions.at(-1) as EventVersion;
    const parsed = latest.schema.safeParse(payload);
    if (!parsed.success) {
      throw new TidemarkError('EVENT_INVALID', `payload of ${type} is invalid`, 400, false, {
        issues: zodIssues(parsed.error),
      });
    }
    return parsed.data;
  }

  /** Reads a stored payload: validates it at its version, upcasts to the latest and validates again. */
  read(type: string, schemaVersion: number, payload: unknown): unknown {
    if (
      typeof payload === 'object' &&
      payload !== null &&
      (payload as Record<symbol, unknown>)[this.readMark] === type
    ) {
      return payload;
    }
    const definition = this.definition(type);
    const start = definition.versions[schemaVersion - 1];
    if (!start) {
      throw new TidemarkError(
        'EVENT_UNREADABLE',
        `${type} has no schema version ${schemaVersion}`,
        400,
        false,
      );
    }
    const first = start.schema.safeParse(payload);
    if (!first.success) {
      throw new TidemarkError(
        'EVENT_UNREADABLE',
        `${type} v${schemaVersion} payload does not match its schema`,
        400,
        false,
        {
          issues: zodIssues(first.error),
        },
      );
    }
    let current: unknown = first.data;
    for (const next of definition.versions.slice(schemaVersion)) {
      const upcast = next.upcast as (previous: unknown) => unknown;
      const parsed = next.schema.safeParse(upcast(current));
      if (!parsed.success) {
        throw new TidemarkError(
          'EVENT_UNREADABLE',
          `${type} cannot be upcast to v${next.version}`,
          400,
          false,
          {
            issues: zodIssues(parsed.error),
          },
        );
      }
      current = parsed.data;
    }
    if (typeof current === 'object' && current !== null && Object.isExtensible(current)) {
      Object.defineProperty(current, this.readMark, { value: type, enumerable: false });
    }
    return current;
  }
}

export class CommandRegistry {
  private readonly byType: Map<string, ZodType>;

  constructor(schemas: Record<string, ZodType>) {
    this.byType = new Map(Object.entries(schemas));
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  schema(type: string): ZodType | undefined {
    return this.byType.get(type);
  }

  /** Validates a command payload; throws COMMAND_TYPE_UNKNOWN or COMMAND_INVALID (400, issues listed). */
  validate(type: string, payload: unknown): unknown {
    const schema = this.byType.get(type);
    if (!schema) {
      throw new TidemarkError('COMMAND_TYPE_UNKNOWN', `unknown command type '${type}'`, 400, false, {
        known: this.types(),
      });
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      throw new TidemarkError('COMMAND_INVALID', `payload of ${type} is invalid`, 400, false, {
        issues: zodIssues(parsed.error),
      });
    }
    return parsed.data;
  }
}
