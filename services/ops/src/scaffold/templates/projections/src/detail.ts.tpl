/**
 * The {{agg-name}}-detail view (Postgres): one document per {{agg words}}, the fold of its events. Pure: the
 * platform loads the current document, calls `apply` with each event and stores what it returns.
 */
import { type {{Agg}}Event, {{ctx}}Context } from '{{package}}';
import { defineProjection, type TypedEvent } from '@tidemark/sdk';
import { z } from 'zod';

export const {{AGG}}_DETAIL_PROJECTION = '{{agg-name}}-detail';

/** The document a read returns. The schema is what the query API's OpenAPI document shows readers. */
export const {{Agg}}Detail = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(['open', 'closed']),
  /** Why it was closed; null while open. */
  closeReason: z.string().nullable(),
  /** The aggregate version of the last event applied. */
  version: z.int(),
  /** occurredAt of the first and of the last event (informational: never used for ordering). */
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type {{Agg}}Detail = z.infer<typeof {{Agg}}Detail>;

/** The fold: the next document, or null for "no document". */
export function apply{{Agg}}Detail(
  current: {{Agg}}Detail | null,
  event: TypedEvent<{{Agg}}Event>,
): {{Agg}}Detail | null {
  // An event the document has seen (a redelivery) changes nothing. The sink skips those already; the check
  // keeps the fold itself idempotent too, for tests and tools that apply events themselves.
  if (current !== null && event.version <= current.version) return current;
  switch (event.type) {
    case '{{Agg}}Created':
      return {
        id: event.aggregate.id,
        title: event.payload.title,
        status: 'open',
        closeReason: null,
        version: event.version,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
    case '{{Agg}}Closed':
      // Closing {{a agg}} that was never created (the decider does not allow it): nothing to show.
      if (current === null) return null;
      return {
        ...current,
        status: 'closed',
        closeReason: event.payload.reason,
        version: event.version,
        updatedAt: event.occurredAt,
      };
  }
}

export const {{agg}}DetailProjection = defineProjection({
  context: {{ctx}}Context,
  name: {{AGG}}_DETAIL_PROJECTION,
  store: 'postgres',
  events: ['{{Agg}}Created', '{{Agg}}Closed'],
  // Top-level fields that reads filter on get a Postgres index.
  indexes: ['status'],
  document: {{Agg}}Detail,
  apply: apply{{Agg}}Detail,
});
