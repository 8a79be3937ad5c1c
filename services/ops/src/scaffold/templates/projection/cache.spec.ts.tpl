/**
 * The {{projection}} projection in Given/Then: for the same events, a cached document is exactly the
 * {{fallback-name}} document that a read falls back to when the cache misses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { {{context-export}} } from '{{package}}';
import type { ContextEvent } from '@tidemark/sdk';
import { ProjectionSpecification, type SpecEvent } from '@tidemark/sdk/testing';
import { {{fallback-export}} } from '{{fallback-test-module}}';
import { {{camel}}Projection } from '../src/{{projection}}';

type Given = SpecEvent<ContextEvent<typeof {{context-export}}>>;

const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();

/** The events of the context's example command, as its decider emitted them when this test was generated. */
const historyOf = (aggregateId: string): Given[] => [{{history}}];

describe('{{projection}}', () => {
  test('a cached document is the {{fallback-name}} document of the same events', () => {
    const events = [...historyOf('{{id-1}}'), ...historyOf('{{id-2}}')];
    const cached = ProjectionSpecification.for({{context-export}}, {{camel}}Projection).given(events);
    const fallback = ProjectionSpecification.for({{context-export}}, {{fallback-export}}).given(events);
{{not-null-check}}    for (const id of ['{{id-1}}', '{{id-2}}', 'no-such-id']) {
      assert.deepEqual(cached.document(id), fallback.document(id), id);
    }
  });
});
