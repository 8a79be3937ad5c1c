/** What the deployment module takes from this package: the projections to start with, the queries, an example. */
import type { ContextExample } from '@tidemark/sdk';
import { {{agg}}DetailProjection } from './{{agg-name}}-detail';

export * from './{{agg-name}}-detail';
export * from './queries';

/** The {{name}} projections at the versions a fresh deployment starts with. */
export const {{agg}}ProjectionSet = [
  {{agg}}DetailProjection,
  // tidemark new projection: projections above this line
] as const;

/** The copy-paste example `tidemark up` prints: a command, then a read of what it did. */
export const {{ctx}}Example: ContextExample = {
  command: {
    type: 'Create{{Agg}}',
    aggregateId: '{{agg-name}}-1',
    expectedVersion: 'new',
    payload: { title: 'First {{agg words}}' },
  },
  reads: ['/v1/{{name}}/{{agg-name}}-1'],
};
