/**
 * The {{name}} decider in Given/When/Then: what each accepted command emits (checked against the event schemas
 * too), the code of each refusal, and the command that changes nothing. Also: command payloads are strict.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeciderSpecification } from '@tidemark/sdk/testing';
import {
  Create{{Agg}},
  {{NAME}}_ALREADY_EXISTS,
  {{NAME}}_NOT_FOUND,
  type {{Agg}}Event,
  {{agg}}Decider,
  {{ctx}}Context,
} from '../src/index';

// `events`: every event the decider emits must also pass the latest schema of its type.
const spec = DeciderSpecification.for({{agg}}Decider, { events: {{ctx}}Context.events });

const created: {{Agg}}Event = { type: '{{Agg}}Created', payload: { title: 'First {{agg words}}' } };
const closed: {{Agg}}Event = { type: '{{Agg}}Closed', payload: { reason: 'Done' } };

describe('Create{{Agg}}', () => {
  test('creates {{a agg}} with its title', () => {
    spec
      .given([])
      .when({ type: 'Create{{Agg}}', payload: { title: 'First {{agg words}}' } })
      .then([created]);
  });

  test('{{a agg}} is created once', () => {
    spec
      .given([created])
      .when({ type: 'Create{{Agg}}', payload: { title: 'Again' } })
      .thenThrows({{NAME}}_ALREADY_EXISTS);
  });

  test('the id must be a plain token: it keys every view', () => {
    assert.equal({{ctx}}Context.aggregateId?.safeParse('{{agg-name}}-1').success, true);
    assert.equal({{ctx}}Context.aggregateId?.safeParse('two words').success, false);
  });

  test('the payload is strict: an unknown key is refused', () => {
    assert.equal(Create{{Agg}}.safeParse({ title: 'First {{agg words}}', titel: 'typo' }).success, false);
  });
});

describe('Close{{Agg}}', () => {
  test('closes an open {{agg words}}', () => {
    spec
      .given([created])
      .when({ type: 'Close{{Agg}}', payload: { reason: 'Done' } })
      .then([closed]);
  });

  test('{{a agg}} that was never created cannot be closed', () => {
    spec
      .given([])
      .when({ type: 'Close{{Agg}}', payload: { reason: 'Done' } })
      .thenThrows({{NAME}}_NOT_FOUND);
  });

  test('closing a closed {{agg words}} again changes nothing', () => {
    spec
      .given([created, closed])
      .when({ type: 'Close{{Agg}}', payload: { reason: 'Done' } })
      .thenNothingHappened();
  });
});
