/**
 * Invariant 2 for the tickets projections in the stores they run in: a random valid tickets log (with v1 events
 * to upcast and unicode text) folded into real Postgres, Redis, memcached and the embedded search server equals
 * the reference fold, is unchanged by re-applying it, and reads back as folded. This is the sink contract suite
 * run against a team's own projections (describeProjectionContract), stores started with @tidemark/stack.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openSink } from '@tidemark/ops';
import type { ProjectionDefinition } from '@tidemark/sdk';
import { describeProjectionContract } from '@tidemark/sink-contract';
import { type Stack, startStack } from '@tidemark/stack';
import { ticketProjectionSet } from '../src/index';
import { random, randomTicketLog } from './support/history';

const PARTITIONS = 3;
const { log } = randomTicketLog(random(20261208), {
  prefix: 'store',
  tickets: 40,
  partitions: PARTITIONS,
  steps: 400,
});

let stack: Stack | undefined;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-tickets-stores-'));
  stack = await startStack({
    dataDir,
    components: ['postgres', 'redis', 'memcached', 'search'],
    ports: { postgres: 0, redis: 0, memcached: 0, search: 0 },
    metricsPort: null,
    searchRefreshIntervalMs: 50,
  });
});

after(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

// Each projection with its own document type; the contract runs on the platform's view of them.
const projections: readonly ProjectionDefinition[] = ticketProjectionSet;

for (const projection of projections) {
  describeProjectionContract(projection, {
    log,
    mayForget: projection.store === 'memcached',
    openSink: (definition) => {
      if (!stack) throw new Error('the stores are not running');
      const { postgres, redis, memcached, search } = stack.endpoints;
      return openSink(
        definition,
        { postgres: postgres ?? '', redis, memcached, elasticsearch: search },
        PARTITIONS,
      );
    },
  });
}
