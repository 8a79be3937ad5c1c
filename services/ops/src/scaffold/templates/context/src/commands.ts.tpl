/**
 * The {{name}} commands: one zod schema per command type, for the payload a client sends. The objects are
 * strict: an unknown key (a client's typo) is refused with a 400 rather than silently ignored.
 */
import type { CommandOf } from '@tidemark/sdk';
import { z } from 'zod';

/**
 * Text that every view store can hold (events.ts uses it too): Postgres refuses NUL characters in JSON, and a
 * document it refuses would stop the projector. Checked here, where a bad value is still a 400 for the client.
 */
export const storableText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');

/** Sent with expectedVersion "new": the command's aggregateId is the new {{agg words}}'s id. */
export const Create{{Agg}} = z.strictObject({ title: storableText(200) });
export type Create{{Agg}} = z.infer<typeof Create{{Agg}}>;

export const Close{{Agg}} = z.strictObject({ reason: storableText(1_000) });
export type Close{{Agg}} = z.infer<typeof Close{{Agg}}>;

/** The command schemas by type: defineContext registers them, the gateway validates payloads with them. */
export const {{agg}}CommandSchemas = { Create{{Agg}}, Close{{Agg}} };

export type {{Agg}}Command = CommandOf<typeof {{agg}}CommandSchemas>;
