/**
 * A document query (defineQueries' documentQuery): the document of a key in the view's version that covers the
 * token. An aggregate view keeps the key in one partition; a gathering view keeps a sub-document per partition,
 * merged on read with the projection's `merge`. When the view does not know the key (a cache that evicted it, or
 * failed) and the query names a fallback, the fallback view answers at the same token.
 */
import type { Lookup, ProjectionDocument } from '@tidemark/projection-runtime';
import { TidemarkError } from '@tidemark/schemas';
import type { DocumentQuery } from '@tidemark/sdk';
import type { Logger } from 'pino';
import type { ContextReads, Reached, ReadAnswer, ReadRequest } from '../consistent-reads';
import { answer, notFound } from '../consistent-reads';
import { INVALID_ID } from '../errors';
import type { QueryMetrics } from '../metrics';
import type { ShadowSnapshot } from '../shadow';

/** Longest key accepted (aggregate ids are at most 200 characters). */
export const MAX_ID_LENGTH = 200;

export function validateKey(key: string, what: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (key.length === 0 || key.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(key)) {
    throw new TidemarkError(
      INVALID_ID,
      `${what} must be 1 to ${MAX_ID_LENGTH} characters without control characters`,
      400,
      false,
      { maxLength: MAX_ID_LENGTH },
    );
  }
}

export async function readDocument(
  reads: ContextReads,
  query: DocumentQuery,
  key: string,
  request: ReadRequest,
  metrics: QueryMetrics,
  logger: Logger,
): Promise<ReadAnswer<ProjectionDocument>> {
  validateKey(key, query.param);
  const begun = await reads.begin(request);
  const { view } = query;
  const reached = await reads.reach(view.name, begun);
  const missing = (at: Reached, source: string) =>
    notFound(query.notFound, `${at.projection} has no document '${key}'`, { [query.param]: key }, at, source);

  if (view.keyScope === 'all') {
    // Every partition may hold a sub-document of the key (a seller's listings are spread over partitions).
    const readAll = (version: number) =>
      Promise.all(
        Array.from({ length: reads.context.partitions }, (_, partition) =>
          reads.views.sink(view.name, version).read(partition, key),
        ),
      );
    const lookups = await reads.lookup(reached, () => readAll(reached.version));
    const parts: ProjectionDocument[] = [];
    for (const found of lookups) {
      const doc = reads.knownDocument(found, reached);
      if (doc) parts.push(doc);
    }
    const merge = (version: number, documents: ProjectionDocument[]) =>
      mergeOf(reads, view.name, version)(documents);
    reads.shadowRead(
      reached,
      key,
      mergedSnapshot(lookups, (docs) => merge(reached.version, docs)),
      async (v) => mergedSnapshot(await readAll(v), (docs) => merge(v, docs)),
    );
    if (parts.length === 0) throw missing(reached, view.store);
    return answer(merge(reached.version, parts), reached, view.store);
  }

  const partition = reads.partitionOf(key);
  const read = (version: number) => reads.views.sink(view.name, version).read(partition, key);
  let found: Lookup<ProjectionDocument>;
  let reason = 'unknown';
  if (query.fallback) {
    try {
      found = await read(reached.version);
    } catch (error) {
      // A cache that fails is a cache that does not know: the fallback view answers.
      logger.warn({ err: error, view: view.name, key }, 'view read failed; falling back');
      found = 'unknown';
      reason = 'error';
    }
  } else {
    found = await reads.lookup(reached, () => read(reached.version));
  }
  // An answer derived from the fallback view is not this view's answer: that shadow read counts as skipped.
  reads.shadowRead(reached, key, keyedSnapshot(partition, found), async (v) =>
    keyedSnapshot(partition, await read(v)),
  );
  const fallback = query.fallback;
  if (found === 'unknown' && fallback) {
    metrics.fallbacks.inc({ view: view.name, reason });
    const from = fallback.view;
    const fallbackReached = await reads.reach(from.name, begun);
    const known = await reads.lookup(fallbackReached, () =>
      reads.views.sink(from.name, fallbackReached.version).read(partition, key),
    );
    const source = `${from.store}-fallback`;
    const doc = reads.knownDocument(known, fallbackReached);
    if (!doc) throw missing(fallbackReached, source);
    return answer(fallback.map(doc), fallbackReached, source);
  }
  const doc = reads.knownDocument(found, reached);
  if (!doc) throw missing(reached, view.store);
  return answer(doc, reached, view.store);
}

/** The merge of a gathering view at a version (the code of that version, when this deployment has it). */
function mergeOf(
  reads: ContextReads,
  projection: string,
  version: number,
): (parts: ProjectionDocument[]) => ProjectionDocument {
  const merge = reads.views.definition(projection, version).merge;
  if (!merge) throw new Error(`projection ${projection} gathers partitions but has no merge`);
  return (parts) => merge(parts);
}

/** One key's lookup in one partition, for a shadow comparison. */
function keyedSnapshot(partition: number, found: Lookup<ProjectionDocument>): ShadowSnapshot {
  if (found === 'unknown') return { value: null, unknown: true };
  if (found === 'absent') return { value: null, positions: new Map([[partition, 0]]) };
  return { value: found.doc, positions: new Map([[partition, found.position]]) };
}

/** A key's sub-documents over every partition, merged as the read merges them. */
function mergedSnapshot(
  lookups: readonly Lookup<ProjectionDocument>[],
  merge: (parts: ProjectionDocument[]) => ProjectionDocument,
): ShadowSnapshot {
  const positions = new Map<number, number>();
  const parts: ProjectionDocument[] = [];
  for (const [partition, found] of lookups.entries()) {
    if (found === 'unknown') return { value: null, unknown: true };
    if (found === 'absent') {
      positions.set(partition, 0);
      continue;
    }
    positions.set(partition, found.position);
    if (found.doc) parts.push(found.doc);
  }
  return { value: parts.length > 0 ? merge(parts) : null, positions };
}
