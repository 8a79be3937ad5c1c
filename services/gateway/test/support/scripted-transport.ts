import { randomUUID } from 'node:crypto';
import type { CommandEnvelope, CommandOutcome } from '@tidemark/schemas';
import type { CommandTransport } from '../../src';
import { logUnavailable, OutcomeBook } from '../../src';

/**
 * A stand-in for the log and the processor, answering from a table keyed by the aggregate id's prefix:
 * reject-, conflict-, invalid-: that outcome; silent-: never answered; late-: answered after 600 ms;
 * hold-: answered when release() is called; down-: the log is unavailable; boom-: an unexpected error;
 * anything else: accepted. Like the processor, the first outcome of a command id is the one it keeps.
 */
export class ScriptedTransport implements CommandTransport {
  readonly book = new OutcomeBook(1000);
  readonly sent: { context: string; command: CommandEnvelope }[] = [];
  /** commandId -> the one outcome decided for it. */
  readonly decided = new Map<string, CommandOutcome>();
  private readonly held: { context: string; outcome: CommandOutcome }[] = [];
  private tokens = 0;

  awaitOutcome(context: string, commandId: string, timeoutMs: number) {
    return this.book.wait(context, commandId, timeoutMs);
  }

  lookupOutcome(context: string, commandId: string) {
    return this.book.lookup(context, commandId);
  }

  async send(context: string, command: CommandEnvelope): Promise<void> {
    const id = command.aggregateId;
    if (id.startsWith('down-')) throw logUnavailable('the command log is unavailable (scripted)');
    if (id.startsWith('boom-')) throw new Error('scripted failure with a secret stack');
    this.sent.push({ context, command });
    let outcome = this.decided.get(command.commandId);
    if (!outcome) {
      outcome = this.decide(command);
      this.decided.set(command.commandId, outcome);
    }
    const answer = outcome;
    if (id.startsWith('silent-')) return;
    if (id.startsWith('hold-')) {
      this.held.push({ context, outcome: answer });
      return;
    }
    const delay = id.startsWith('late-') ? 600 : 0;
    setTimeout(() => this.book.record(context, answer), delay);
  }

  release(): void {
    for (const { context, outcome } of this.held.splice(0)) this.book.record(context, outcome);
  }

  async close(): Promise<void> {
    this.book.close();
  }

  private decide(command: CommandEnvelope): CommandOutcome {
    const base = { commandId: command.commandId, aggregateId: command.aggregateId };
    const id = command.aggregateId;
    if (id.startsWith('reject-')) {
      return {
        ...base,
        status: 'rejected',
        aggregateVersion: 3,
        code: 'WIDGET_RETIRED',
        message: 'the widget is retired',
      };
    }
    if (id.startsWith('conflict-')) {
      return {
        ...base,
        status: 'conflict',
        expectedVersion: command.expectedVersion ?? 'any',
        currentVersion: 7,
      };
    }
    if (id.startsWith('invalid-')) {
      return {
        ...base,
        status: 'invalid',
        code: 'COMMAND_UNREADABLE',
        message: 'the processor could not read the command',
        issues: [{ path: 'payload.name', message: 'too long' }],
      };
    }
    this.tokens++;
    return {
      ...base,
      status: 'accepted',
      aggregateVersion: 1,
      token: `tok-${this.tokens}`,
      events: [
        {
          id: randomUUID(),
          type: 'WidgetCreated',
          schemaVersion: 1,
          aggregate: { type: 'Widget', id },
          version: 1,
          commandId: command.commandId,
          correlationId: command.metadata.correlationId,
          causationId: command.commandId,
          occurredAt: command.metadata.receivedAt,
          payload: command.payload,
        },
      ],
    };
  }
}
