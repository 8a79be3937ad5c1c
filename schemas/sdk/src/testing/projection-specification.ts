/**
 * Given/Then for projections: given these events of the context (typed, validated against its latest schemas),
 * then a read of this key returns this document. It folds exactly as the reference fold does (per partition, in
 * log order; a gathering view's sub-documents merged), so a projection that passes here folds the same way in
 * every store. Asserts with node:assert, so it works inside any node:test test.
 *
 *   ProjectionSpecification.for(ticketsContext, ticketDetailProjection)
 *     .given([{ aggregateId: 't-1', type: 'TicketOpened', payload: { ... } }])
 *     .then('t-1', { id: 't-1', status: 'open', ... });
 */
import assert from 'node:assert/strict';
import type { EventEnvelope } from '@tidemark/schemas';
import type { ContextDefinition, ContextEvent } from '../context';
import type { DomainEvent } from '../decider';
import type { ProjectionDefinition, ProjectionDocument } from '../projection';
import type { LogEntry } from './reference-fold';
import { canonicalJson, foldedDocument, referenceFold } from './reference-fold';

/** An event as a specification writes it; the envelope's other fields get fixed, deterministic values. */
export type SpecEvent<E extends DomainEvent> = E extends DomainEvent
  ? {
      type: E['type'];
      payload: E['payload'];
      /** Default 'spec-aggregate-1'; versions count up per aggregate. */
      aggregateId?: string;
      /** The events partition (default 0): gathering views keep one sub-document per partition. */
      partition?: number;
      occurredAt?: string;
    }
  : never;

export class ProjectionSpecification<Ctx extends ContextDefinition, D extends ProjectionDocument> {
  private constructor(
    private readonly context: Ctx,
    private readonly projection: ProjectionDefinition<D>,
  ) {}

  static for<Ctx extends ContextDefinition, D extends ProjectionDocument>(
    context: Ctx,
    projection: ProjectionDefinition<D>,
  ): ProjectionSpecification<Ctx, D> {
    if (projection.context !== context.name) {
      throw new Error(`projection ${projection.name} is not a projection of context ${context.name}`);
    }
    return new ProjectionSpecification(context, projection);
  }

  /** The events, oldest first. */
  given(events: readonly SpecEvent<ContextEvent<Ctx>>[]): ProjectionThen<D> {
    return new ProjectionThen(this.projection, specLog(this.context, events));
  }

  /**
   * A log as it was recorded, envelopes as they are (older schema versions included): for the upcasting path,
   * which a projection reads through the context's registry.
   */
  givenLog(log: readonly LogEntry[]): ProjectionThen<D> {
    return new ProjectionThen(this.projection, log);
  }
}

export class ProjectionThen<D extends ProjectionDocument> {
  constructor(
    private readonly projection: ProjectionDefinition<D>,
    /** The log the events make (offsets per partition from 0): for tests that drive a store with it. */
    readonly log: readonly LogEntry[],
  ) {}

  /** The document a read of `key` returns (null: none). */
  document(key: string): D | null {
    return foldedDocument(this.projection, referenceFold(this.projection, this.log), key);
  }

  /** Asserts the document a read of `key` returns (null: not found). Returns `this` for more keys. */
  // biome-ignore lint/suspicious/noThenProperty: Given/Then is the vocabulary this helper exists for.
  then(key: string, expected: D | null): this {
    const actual = this.document(key);
    assert.deepStrictEqual(
      actual === null ? null : JSON.parse(canonicalJson(actual)),
      expected === null ? null : JSON.parse(canonicalJson(expected)),
      `${this.projection.name}: the document of '${key}' differs`,
    );
    return this;
  }
}

/** Envelopes for specification events: fixed ids and clock, versions counted per aggregate, offsets per partition. */
export function specLog<Ctx extends ContextDefinition>(
  context: Ctx,
  events: readonly SpecEvent<ContextEvent<Ctx>>[],
): LogEntry[] {
  const versions = new Map<string, number>();
  const offsets = new Map<number, number>();
  return events.map((spec, index) => {
    const aggregateId = spec.aggregateId ?? 'spec-aggregate-1';
    const partition = spec.partition ?? 0;
    const version = (versions.get(aggregateId) ?? 0) + 1;
    versions.set(aggregateId, version);
    const offset = offsets.get(partition) ?? 0;
    offsets.set(partition, offset + 1);
    // A payload the schema refuses fails the specification rather than a projector.
    const payload = context.events.validateNew(spec.type, spec.payload);
    const id = `00000000-0000-7000-8000-${String(index + 1).padStart(12, '0')}`;
    const event: EventEnvelope = {
      id,
      type: spec.type,
      schemaVersion: context.events.latestVersion(spec.type),
      aggregate: { type: context.aggregateType, id: aggregateId },
      version,
      commandId: `spec-command-${index + 1}`,
      correlationId: `spec-command-${index + 1}`,
      causationId: `spec-command-${index + 1}`,
      occurredAt: spec.occurredAt ?? new Date(Date.UTC(2025, 0, 1, 0, 0, index)).toISOString(),
      payload,
    };
    return { partition, offset, event };
  });
}
