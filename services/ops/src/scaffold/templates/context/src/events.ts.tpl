/**
 * The {{name}} events: what happened, kept in the log for good. Each carries what the projections need to apply
 * it on its own. A schema is never edited once events of it have been written: add a version instead with
 * `versioned(v1).next(v2, upcast)` from @tidemark/sdk, which turns old payloads into the new shape on read.
 */
import type { EventOf } from '@tidemark/sdk';
import { z } from 'zod';
import { storableText } from './commands';

export const {{Agg}}Created = z.object({ title: storableText(200) });
export type {{Agg}}Created = z.infer<typeof {{Agg}}Created>;

export const {{Agg}}Closed = z.object({ reason: storableText(1_000) });
export type {{Agg}}Closed = z.infer<typeof {{Agg}}Closed>;

/** The event schemas by type. */
export const {{agg}}EventSchemas = { {{Agg}}Created, {{Agg}}Closed };

export type {{Agg}}Event = EventOf<typeof {{agg}}EventSchemas>;
