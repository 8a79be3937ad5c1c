/**
 * The sink contract applied to a team's own projection (invariant 2 with the team's fold): its log, folded by
 * the reference projector into a real store, equals the SDK's reference fold; applying it again, from the
 * start or from the middle, in other batch sizes, changes nothing; and every document reads back as the fold
 * made it (whatever the projection produces, the store can hold). A team runs it from its own int test:
 *
 *   const stack = await startStack({ dataDir, components: ['postgres'] });
 *   describeProjectionContract(ticketDetailProjection, {
 *     log: ProjectionSpecification.for(ticketsContext, ticketDetailProjection).given([...]).log,
 *     openSink: (definition) => openSink(definition, { postgres: stack.endpoints.postgres }, 4),
 *   });
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { ProjectionDefinition, ProjectionDocument, Sink } from '@tidemark/projection-runtime';
import type { LogEntry } from '@tidemark/sdk/testing';
import { canonicalJson, referenceFold } from '@tidemark/sdk/testing';
import { assertSinkMatchesFold, endOffsets, replay } from './fold';

export interface ProjectionContractOptions<D extends ProjectionDocument> {
  /** The events to fold, as the log holds them (e.g. a ProjectionSpecification's `log`, or generated histories). */
  log: readonly LogEntry[];
  /**
   * A real store's sink of a version of the projection (the suite prepares and closes it). A platform helper
   * such as `openSink` of @tidemark/ops answers a sink of any document: the suite checks what it holds.
   */
  openSink(definition: ProjectionDefinition<D>): Sink<D> | Sink | Promise<Sink<D> | Sink>;
  /** The store may lose documents (memcached): 'unknown' is then accepted where the fold has a document. */
  mayForget?: boolean;
}

/** Registers the contract tests of one projection in one store. */
export function describeProjectionContract<D extends ProjectionDocument>(
  projection: ProjectionDefinition<D>,
  options: ProjectionContractOptions<D>,
): void {
  const runId = randomBytes(3).toString('hex');
  let seq = 0;
  const opened: Sink<D>[] = [];
  const mayForget = options.mayForget ?? false;
  const ends = endOffsets(options.log);
  const fold = referenceFold(projection, options.log);

  /** A version of its own per test, under a name unique to the run, so tests never share targets. */
  async function fresh(): Promise<{ definition: ProjectionDefinition<D>; sink: Sink<D> }> {
    seq += 1;
    const definition = { ...projection, name: `${projection.name.slice(0, 40)}-pc${runId}${seq}` };
    // The sink holds whatever documents the projection folds; the suite compares them with the fold's.
    const sink = (await options.openSink(definition)) as Sink<D>;
    opened.push(sink);
    await sink.prepare();
    return { definition, sink };
  }

  describe(`projection ${projection.name} in ${projection.store}`, () => {
    after(async () => {
      for (const sink of opened.splice(0)) {
        await sink.drop().catch(() => undefined);
        await sink.close().catch(() => undefined);
      }
    });

    it('the log folded into the store equals the reference fold', async () => {
      const { definition, sink } = await fresh();
      await replay(sink, definition, options.log, { batchSize: 50 });
      await assertSinkMatchesFold(sink, fold, { allowUnknown: mayForget });
      assert.deepEqual(await sink.checkpoints(), ends);
    });

    it('applying it again, from the start or the middle, in other batch sizes, changes nothing', async () => {
      const { definition, sink } = await fresh();
      await replay(sink, definition, options.log, { batchSize: 1 });
      await replay(sink, definition, options.log, { batchSize: 7, from: new Map() });
      const middle = new Map([...ends].map(([partition, end]) => [partition, Math.floor(end / 2)]));
      await replay(sink, definition, options.log, { batchSize: 3, from: middle });
      await assertSinkMatchesFold(sink, fold, { allowUnknown: mayForget });
      assert.deepEqual(await sink.checkpoints(), ends);
    });

    it('every document reads back as the fold made it', async () => {
      const { definition, sink } = await fresh();
      await replay(sink, definition, options.log, { batchSize: 100 });
      let read = 0;
      for (const [partition, docs] of fold) {
        for (const [key, folded] of docs) {
          const found = await sink.read(partition, key);
          if (found === 'unknown' && mayForget) continue;
          const doc = found === 'absent' || found === 'unknown' ? found : found.doc;
          assert.equal(
            canonicalJson(doc ?? null),
            canonicalJson(folded.doc),
            `${key} in partition ${partition}`,
          );
          read++;
        }
      }
      assert.ok(
        read > 0 || fold.size === 0,
        'the log folds to no document: give events the projection reads',
      );
    });
  });
}
