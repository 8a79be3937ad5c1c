/**
 * The {{projection}} projection in Given/Then: the document the example's events fold to for each
 * {{agg words}}, and no document for an id without events.
 */
import { describe, test } from 'node:test';
import { {{context-export}} } from '{{package}}';
import type { ContextEvent } from '@tidemark/sdk';
import { ProjectionSpecification, type SpecEvent } from '@tidemark/sdk/testing';
import { {{camel}}Projection } from '../src/{{projection}}';

type Given = SpecEvent<ContextEvent<typeof {{context-export}}>>;

const spec = ProjectionSpecification.for({{context-export}}, {{camel}}Projection);
const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();

/** The events of the context's example command, as its decider emitted them when this test was generated. */
const historyOf = (aggregateId: string): Given[] => [{{history}}];

describe('{{projection}}', () => {
  test('each {{agg words}} has its own document', () => {
    spec
      .given([...historyOf('{{id-1}}'), ...historyOf('{{id-2}}')])
      .then('{{id-1}}', {{expected-1}})
      .then('{{id-2}}', {{expected-2}})
      .then('no-such-id', null);
  });
});
