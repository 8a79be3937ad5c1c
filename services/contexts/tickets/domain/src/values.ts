/**
 * Value shapes shared by the tickets commands and events. Every string a schema here accepts is stored as it is
 * in Postgres jsonb, Redis, memcached and Elasticsearch, so every one is built on `SafeText`, which refuses what
 * one of those stores cannot hold: NUL (jsonb refuses \u0000) and unpaired UTF-16 surrogates (not Unicode: a
 * JSON encoder replaces them or the store refuses them, so the view would differ from the event).
 */
import { z } from 'zod';

/**
 * Whole Unicode characters without NUL: each code unit is a non-surrogate other than NUL, or a high surrogate
 * followed by a low one. A pattern rather than a refine so that the exported JSON Schemas carry it too; it means
 * the same with and without the `u` flag (with it, a paired surrogate is one code point outside D800-DFFF).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL is what this pattern is for.
export const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** Any string every view store can hold; give it a length limit (`safeText`) before using it in a schema. */
export const SafeText = z.string().regex(STORABLE_TEXT, STORABLE_TEXT_MESSAGE);

/** Storable text of at most `max` UTF-16 code units (zod's count). */
export const safeText = (max: number) => SafeText.max(max);

/** Storable text that says something: 1..max code units, not only white space. */
export const requiredText = (max: number) => safeText(max).min(1).regex(/\S/, 'must not be blank');

/**
 * Identifiers end up as store keys, URL path segments and exact-match search terms: no white space (a stray
 * space would make another agent) and no control characters, on top of SafeText.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses.
const TOKEN = /^[^\s\u0000-\u001F\u007F-\u009F]+$/;
export const token = (max: number) =>
  safeText(max).min(1).regex(TOKEN, 'must not contain white space or control characters');

/**
 * The ticket's id: the command's aggregateId, which the gateway only bounds in length. It becomes every view's key
 * and the detail's `id`, so it must be a storable token too (a NUL in it would halt the Postgres projector).
 */
export const TicketId = token(200);

/** Whoever acts on a ticket: its requester, an agent, a comment's author. */
export const PersonId = token(200);
export const RequesterId = PersonId;
export const AgentId = PersonId;
export const AuthorId = PersonId;

export const Subject = requiredText(200);
/** The ticket's description and every comment's text. */
export const Body = requiredText(10_000);
export const Resolution = requiredText(5_000);
export const ReopenReason = requiredText(1_000);

export const MAX_TAGS = 10;
export const Tag = token(40);
/** Distinct labels: a duplicate would count twice in a facet and says nothing more. */
export const Tags = z
  .array(Tag)
  .max(MAX_TAGS)
  .refine((tags) => new Set(tags).size === tags.length, { message: 'tags must be distinct' });

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;
