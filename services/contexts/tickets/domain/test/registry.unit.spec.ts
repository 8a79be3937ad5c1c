/**
 * The tickets registries: command validation (limits, strictness, defaults, and the refusal of strings a view
 * store cannot hold), event versions, and the upcast of a v1 TicketOpened.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TidemarkError } from '@tidemark/schemas';
import {
  MAX_TAGS,
  STORABLE_TEXT,
  TICKET_AGGREGATE_TYPE,
  ticketCommands,
  ticketEvents,
  ticketsContext,
} from '../src/index';

const open = {
  requesterId: 'customer-1',
  subject: 'Cannot log in',
  body: 'The new password is refused.',
  priority: 'high',
  tags: ['login'],
};
const { tags: _tags, ...v1Payload } = open;

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof TidemarkError && error.code === code);
}

describe('the tickets context', () => {
  test('is named tickets, for ticket aggregates, with every command and event', () => {
    assert.equal(ticketsContext.name, 'tickets');
    assert.equal(TICKET_AGGREGATE_TYPE, 'ticket');
    assert.equal(ticketsContext.aggregateType, 'ticket');
    assert.deepEqual(ticketsContext.commands.types().sort(), [
      'AssignTicket',
      'CommentOnTicket',
      'OpenTicket',
      'ReopenTicket',
      'ResolveTicket',
    ]);
    assert.deepEqual(ticketsContext.events.types().sort(), [
      'TicketAssigned',
      'TicketCommented',
      'TicketOpened',
      'TicketReopened',
      'TicketResolved',
    ]);
    assert.ok(ticketsContext.schemaSamples?.endsWith('schema-samples'));
  });
});

describe('events', () => {
  test('TicketOpened has two versions, every other event one', () => {
    assert.equal(ticketEvents.latestVersion('TicketOpened'), 2);
    for (const type of ['TicketAssigned', 'TicketCommented', 'TicketResolved', 'TicketReopened']) {
      assert.equal(ticketEvents.latestVersion(type), 1, type);
    }
  });

  test('a v1 TicketOpened is read as v2 with no tags', () => {
    assert.deepEqual(ticketEvents.read('TicketOpened', 1, v1Payload), { ...v1Payload, tags: [] });
  });

  test('a v2 TicketOpened is read as it is', () => {
    assert.deepEqual(ticketEvents.read('TicketOpened', 2, open), open);
  });

  test('new events are written at the latest version; unreadable ones are refused', () => {
    assertCode(() => ticketEvents.validateNew('TicketOpened', v1Payload), 'EVENT_INVALID');
    assertCode(() => ticketEvents.read('TicketOpened', 3, open), 'EVENT_UNREADABLE');
    assertCode(
      () => ticketEvents.read('TicketOpened', 1, { ...v1Payload, priority: 'asap' }),
      'EVENT_UNREADABLE',
    );
    assertCode(
      () => ticketEvents.read('TicketOpened', 1, { ...v1Payload, subject: 'a\u0000b' }),
      'EVENT_UNREADABLE',
    );
  });

  test('a TicketAssigned to the agent it leaves is refused', () => {
    const payload = { agentId: 'agent-ana', previousAgentId: 'agent-ana', priority: 'low' };
    assertCode(() => ticketEvents.validateNew('TicketAssigned', payload), 'EVENT_INVALID');
    const first = { agentId: 'agent-ana', previousAgentId: null, priority: 'low' };
    assert.deepEqual(ticketEvents.validateNew('TicketAssigned', first), first);
  });
});

describe('commands', () => {
  test('valid payloads pass; tags and internal have defaults', () => {
    assert.deepEqual(ticketCommands.validate('OpenTicket', open), open);
    assert.deepEqual(ticketCommands.validate('OpenTicket', v1Payload), { ...v1Payload, tags: [] });
    assert.deepEqual(ticketCommands.validate('AssignTicket', { agentId: 'agent-ana' }), {
      agentId: 'agent-ana',
    });
    assert.deepEqual(ticketCommands.validate('CommentOnTicket', { authorId: 'a', body: 'Hi' }), {
      authorId: 'a',
      body: 'Hi',
      internal: false,
    });
    assert.deepEqual(ticketCommands.validate('ResolveTicket', { resolution: 'Done', resolvedBy: 'a' }), {
      resolution: 'Done',
      resolvedBy: 'a',
    });
    assert.deepEqual(ticketCommands.validate('ReopenTicket', { reason: 'Again' }), { reason: 'Again' });
  });

  test('text at its limit passes, whole astral characters and all', () => {
    const emoji = '😀'.repeat(100);
    assert.equal(emoji.length, 200);
    assert.deepEqual(ticketCommands.validate('OpenTicket', { ...open, subject: emoji }), {
      ...open,
      subject: emoji,
    });
    const tags = Array.from({ length: MAX_TAGS }, (_, i) => `tag-${i}`);
    assert.deepEqual(ticketCommands.validate('OpenTicket', { ...open, tags }), { ...open, tags });
  });

  const invalid: [string, string, unknown][] = [
    ['an unknown key (a typo)', 'AssignTicket', { agent: 'agent-ana' }],
    ['a priority that is not one of the four', 'OpenTicket', { ...open, priority: 'asap' }],
    ['an empty subject', 'OpenTicket', { ...open, subject: '' }],
    ['a blank subject', 'OpenTicket', { ...open, subject: ' \t ' }],
    ['a subject over 200 characters', 'OpenTicket', { ...open, subject: 'x'.repeat(201) }],
    ['a body over 10,000 characters', 'OpenTicket', { ...open, body: 'x'.repeat(10_001) }],
    ['a NUL in the body', 'OpenTicket', { ...open, body: 'before\u0000after' }],
    ['a lone high surrogate in the subject', 'OpenTicket', { ...open, subject: 'broken \uD83D' }],
    ['a lone low surrogate in a comment', 'CommentOnTicket', { authorId: 'a', body: '\uDE00 x' }],
    ['surrogates in the wrong order', 'ReopenTicket', { reason: '\uDE00\uD83D' }],
    ['a NUL in a tag', 'OpenTicket', { ...open, tags: ['a\u0000'] }],
    ['a tag with a space', 'OpenTicket', { ...open, tags: ['two words'] }],
    ['a tag over 40 characters', 'OpenTicket', { ...open, tags: ['t'.repeat(41)] }],
    ['an empty tag', 'OpenTicket', { ...open, tags: [''] }],
    ['a tag twice', 'OpenTicket', { ...open, tags: ['login', 'login'] }],
    ['more than ten tags', 'OpenTicket', { ...open, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
    ['an agent id with a space', 'AssignTicket', { agentId: 'agent ana' }],
    ['an agent id with a control character', 'AssignTicket', { agentId: 'agent\u0007' }],
    ['an empty agent id', 'AssignTicket', { agentId: '' }],
    ['an agent id over 200 characters', 'AssignTicket', { agentId: 'a'.repeat(201) }],
    ['a NUL in a requester id', 'OpenTicket', { ...open, requesterId: 'c\u0000' }],
    ['internal as a string', 'CommentOnTicket', { authorId: 'a', body: 'Hi', internal: 'yes' }],
    [
      'a resolution over 5,000 characters',
      'ResolveTicket',
      { resolution: 'x'.repeat(5_001), resolvedBy: 'a' },
    ],
    ['no resolver', 'ResolveTicket', { resolution: 'Done' }],
    ['a reason over 1,000 characters', 'ReopenTicket', { reason: 'x'.repeat(1_001) }],
    ['an empty reason', 'ReopenTicket', { reason: '' }],
  ];
  for (const [name, type, payload] of invalid) {
    test(`refuses ${name}`, () =>
      assertCode(() => ticketCommands.validate(type, payload), 'COMMAND_INVALID'));
  }

  test('refuses an unknown command type', () => {
    assertCode(() => ticketCommands.validate('DeleteTicket', {}), 'COMMAND_TYPE_UNKNOWN');
  });
});

/** The same judgement, code unit by code unit: the reference the pattern is checked against. */
function storableByCodeUnits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0 || (unit >= 0xdc00 && unit <= 0xdfff)) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

describe('storable text', () => {
  test('matches exactly the well-formed strings without NUL, with and without the u flag', () => {
    const unicode = new RegExp(STORABLE_TEXT.source, 'u');
    const cases: [string, boolean][] = [
      ['', true],
      ['plain', true],
      ['é – 中文 😀 👩‍👩‍👧', true],
      ['\uFFFF\u0001', true],
      ['\u0000', false],
      ['\uD83D', false],
      ['\uDE00', false],
      ['a\uD83Db', false],
      ['\uDE00\uD83D', false],
      ['😀\uDE00', false],
    ];
    for (const [text, storable] of cases) {
      assert.equal(STORABLE_TEXT.test(text), storable, JSON.stringify(text));
      assert.equal(unicode.test(text), storable, `u: ${JSON.stringify(text)}`);
      assert.equal(storableByCodeUnits(text), storable, `reference: ${JSON.stringify(text)}`);
    }
  });
});
