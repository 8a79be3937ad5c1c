/**
 * A second, tiny context written with the SDK, to serve beside listings: "notes", whose notes have an author and
 * a text. Two views: `note` (postgres-like, one document per note, with a zod document schema) and
 * `author-notes` (redis-like, keyScope 'all': per-author counters gathered over the partitions, merged on read,
 * without a document schema). Its queries use other path parameter names than listings (`:noteId`, `:author`).
 * `NotesWorld` is its in-memory log and sinks (its own topic identity and partition count), sharing the control
 * table and bus of the world it is given, as contexts of one deployment do.
 */
import { partitionForKey } from '@tidemark/kafka';
import type { EventEnvelope } from '@tidemark/schemas';
import type { ProjectionDefinition } from '@tidemark/sdk';
import {
  BusinessRuleViolation,
  defineContext,
  defineProjection,
  defineQueries,
  documentQuery,
} from '@tidemark/sdk';
import { z } from 'zod';
import type { QueryContext } from '../../src';
import type { MemoryBus, MemoryControl } from './fakes';
import { MemorySink } from './fakes';

export const NOTES = 'notes';
export const NOTES_IDENTITY = 'abcdefabcdef0123';
export const NOTES_PARTITIONS = 2;

const NoteWritten = z.object({ author: z.string().min(1), text: z.string() });
const NoteEdited = z.object({ author: z.string().min(1), text: z.string() });

interface NoteState {
  author: string | null;
}

export const notesContext = defineContext({
  name: NOTES,
  aggregateType: 'note',
  commands: { WriteNote: NoteWritten, EditNote: z.object({ text: z.string() }) },
  events: { NoteWritten, NoteEdited },
  decider: {
    initialState: (): NoteState => ({ author: null }),
    decide(command, state) {
      if (command.type === 'WriteNote') {
        if (state.author !== null) throw new BusinessRuleViolation('NOTE_EXISTS', 'written already');
        return [{ type: 'NoteWritten', payload: command.payload }];
      }
      if (state.author === null) throw new BusinessRuleViolation('NOTE_NOT_FOUND', 'no such note');
      return [{ type: 'NoteEdited', payload: { author: state.author, text: command.payload.text } }];
    },
    evolve: (state, event) => (event.type === 'NoteWritten' ? { author: event.payload.author } : state),
  },
});

export const NoteDocument = z.object({
  id: z.string(),
  author: z.string(),
  text: z.string(),
  /** How often the note was edited. */
  edits: z.int(),
});
export type NoteDocument = z.infer<typeof NoteDocument>;

export const createNoteProjection = (version = 1) =>
  defineProjection({
    context: notesContext,
    name: 'note',
    version,
    store: 'postgres',
    events: ['NoteWritten', 'NoteEdited'],
    document: NoteDocument,
    apply: (current: NoteDocument | null, event, key): NoteDocument =>
      event.type === 'NoteWritten'
        ? { id: key, author: event.payload.author, text: event.payload.text, edits: 0 }
        : {
            id: key,
            author: event.payload.author,
            text: event.payload.text,
            edits: (current?.edits ?? 0) + 1,
          },
  });

export interface AuthorNotes {
  [key: string]: unknown;
  author: string;
  notes: number;
}

export const createAuthorNotesProjection = (version = 1) =>
  defineProjection({
    context: notesContext,
    name: 'author-notes',
    version,
    store: 'redis',
    keyScope: 'all',
    events: ['NoteWritten'],
    key: (event) => event.payload.author,
    apply: (current: AuthorNotes | null, _event, key): AuthorNotes => ({
      author: key,
      notes: (current?.notes ?? 0) + 1,
    }),
    merge: (parts) => ({ author: parts[0]?.author ?? '', notes: parts.reduce((sum, p) => sum + p.notes, 0) }),
  });

export const noteProjection = createNoteProjection();
export const authorNotesProjection = createAuthorNotesProjection();

export const noteQueries = defineQueries(notesContext, {
  note: documentQuery(noteProjection, { path: '/v1/notes/:noteId', notFound: 'NOTE_NOT_FOUND' }),
  authorNotes: documentQuery(authorNotesProjection, {
    path: '/v1/authors/:author/notes',
    notFound: 'AUTHOR_NOT_FOUND',
    summary: "An author's note count",
  }),
});

const VIEWS: Record<
  string,
  { store: 'postgres' | 'redis'; define: (version: number) => ProjectionDefinition }
> = {
  note: { store: 'postgres', define: createNoteProjection },
  'author-notes': { store: 'redis', define: createAuthorNotesProjection },
};

let sequence = 0;

export function noteEvent(
  noteId: string,
  version: number,
  type: 'NoteWritten' | 'NoteEdited',
  payload: unknown,
) {
  sequence++;
  return {
    id: `01890000-0000-7000-9000-${String(sequence).padStart(12, '0')}`,
    type,
    schemaVersion: 1,
    aggregate: { type: 'note', id: noteId },
    version,
    commandId: `n-${sequence}`,
    correlationId: `n-${sequence}`,
    causationId: `n-${sequence}`,
    occurredAt: new Date(Date.UTC(2025, 1, 1, 0, 0, sequence)).toISOString(),
    payload,
  } satisfies EventEnvelope;
}

/** The notes context in memory: its log and sinks; the control table and bus are the deployment's (shared). */
export class NotesWorld {
  readonly log: EventEnvelope[][] = Array.from({ length: NOTES_PARTITIONS }, () => []);
  readonly sinks = new Map<string, MemorySink>();
  private readonly applied = new Map<string, Map<number, number>>();

  constructor(
    readonly control: MemoryControl,
    readonly bus: MemoryBus,
  ) {}

  sink(projection: string, version: number): MemorySink {
    const view = VIEWS[projection];
    if (!view) throw new Error(`notes has no view '${projection}'`);
    const id = `${projection}.v${version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      sink = new MemorySink(view.store);
      this.sinks.set(id, sink);
    }
    return sink;
  }

  context(extra: Partial<QueryContext> = {}): QueryContext {
    return {
      name: NOTES,
      partitions: NOTES_PARTITIONS,
      topicIdentity: NOTES_IDENTITY,
      logEnd: async (partition) => this.log[partition]?.length ?? 0,
      queries: noteQueries.list,
      sink: (projection, version) => this.sink(projection, version),
      ...extra,
    };
  }

  async register(version = 1): Promise<void> {
    for (const [name, view] of Object.entries(VIEWS)) {
      await this.control.register({ context: NOTES, name, version, store: view.store });
    }
  }

  append(...events: EventEnvelope[]): Record<number, number> {
    const token: Record<number, number> = {};
    for (const event of events) {
      const partition = partitionForKey(event.aggregate.id, NOTES_PARTITIONS);
      const log = this.log[partition] as EventEnvelope[];
      log.push(event);
      token[partition] = log.length;
    }
    return token;
  }

  /** Folds the log into every view (version 1) and announces the watermarks on the shared bus. */
  async projectAll(version = 1): Promise<void> {
    for (const [name, view] of Object.entries(VIEWS)) {
      const definition = view.define(version);
      const sink = this.sink(name, version);
      const applied = this.applied.get(`${name}.v${version}`) ?? new Map<number, number>();
      this.applied.set(`${name}.v${version}`, applied);
      for (let partition = 0; partition < NOTES_PARTITIONS; partition++) {
        const log = this.log[partition] as EventEnvelope[];
        for (let offset = applied.get(partition) ?? 0; offset < log.length; offset++) {
          const event = log[offset] as EventEnvelope;
          if (!definition.eventTypes.includes(event.type)) continue;
          for (const key of definition.keys(event)) {
            const found = (await sink.load(partition, [key])).get(key);
            const current = found && typeof found === 'object' ? found.doc : null;
            await sink.commit(
              partition,
              [{ key, doc: definition.apply(current, event, key), position: offset + 1 }],
              offset + 1,
            );
          }
        }
        await sink.commit(partition, [], log.length);
        applied.set(partition, log.length);
        await this.bus.publish([
          { context: NOTES, projection: name, version, partition, offset: log.length },
        ]);
      }
    }
  }
}
