/**
 * The {{projection}} projection in Given/Then: events of two aggregates on the same day but on different
 * partitions count towards one document (the partitions' sub-documents merged); a day without events has none.
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
const historyOf = (aggregateId: string, partition: number): Given[] => [{{history}}];

describe('{{projection}}', () => {
  test("a day's document adds up the events of every partition", () => {
    spec
      .given([...historyOf('{{id-1}}', 0), ...historyOf('{{id-2}}', 1)])
      .then('2025-01-01', {{expected-day}})
      .then('2025-01-02', null);
  });
});
