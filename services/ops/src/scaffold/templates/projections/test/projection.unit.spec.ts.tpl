/**
 * The {{agg-name}}-detail projection in Given/Then: the document each history folds to (created, closed), no
 * document for an id without events or for {{a agg}} never created, and a redelivered event changing nothing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { {{ctx}}Context } from '{{package}}';
import { ProjectionSpecification } from '@tidemark/sdk/testing';
import { {{agg}}DetailProjection } from '../src/index';

const spec = ProjectionSpecification.for({{ctx}}Context, {{agg}}DetailProjection);
const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();

describe('{{agg-name}}-detail', () => {
  test('a created {{agg words}} is open, with its title', () => {
    spec
      .given([
        {
          type: '{{Agg}}Created',
          aggregateId: '{{agg-name}}-1',
          occurredAt: at(1),
          payload: { title: 'First {{agg words}}' },
        },
      ])
      .then('{{agg-name}}-1', {
        id: '{{agg-name}}-1',
        title: 'First {{agg words}}',
        status: 'open',
        closeReason: null,
        version: 1,
        createdAt: at(1),
        updatedAt: at(1),
      })
      .then('{{agg-name}}-2', null);
  });

  test('a closed {{agg words}} keeps its title and says why it was closed', () => {
    spec
      .given([
        {
          type: '{{Agg}}Created',
          aggregateId: '{{agg-name}}-1',
          occurredAt: at(1),
          payload: { title: 'First {{agg words}}' },
        },
        { type: '{{Agg}}Closed', aggregateId: '{{agg-name}}-1', occurredAt: at(2), payload: { reason: 'Done' } },
      ])
      .then('{{agg-name}}-1', {
        id: '{{agg-name}}-1',
        title: 'First {{agg words}}',
        status: 'closed',
        closeReason: 'Done',
        version: 2,
        createdAt: at(1),
        updatedAt: at(2),
      });
  });

  test('{{a agg}} that was never created has no document', () => {
    spec
      .given([{ type: '{{Agg}}Closed', aggregateId: '{{agg-name}}-1', payload: { reason: 'Done' } }])
      .then('{{agg-name}}-1', null);
  });

  test('an event applied again changes nothing', () => {
    const { log } = spec.given([
      { type: '{{Agg}}Created', aggregateId: '{{agg-name}}-1', payload: { title: 'First {{agg words}}' } },
    ]);
    const event = log[0]?.event;
    assert.ok(event);
    const once = {{agg}}DetailProjection.apply(null, event, '{{agg-name}}-1');
    assert.deepEqual({{agg}}DetailProjection.apply(once, event, '{{agg-name}}-1'), once);
  });
});
