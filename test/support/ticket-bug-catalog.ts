/**
 * A catalog module for the two-context scenario (`--catalog` / catalogModule: this file's .js): version 1 of
 * ticket-detail has a deliberate bug, version 2 is the fixed code (the tickets package's own fold).
 *
 * The bug: v1 ignores TicketReopened, so a reopened ticket stays `resolved` with reopenCount 0 in its detail.
 */
import type { ProjectionDefinition } from '@tidemark/sdk';
import type { TicketDetail } from '@tidemark/tickets-projections';
import { createTicketDetailProjection } from '@tidemark/tickets-projections';

const fixed = createTicketDetailProjection({ version: 1 });

export const buggyTicketDetail: ProjectionDefinition<TicketDetail> = {
  ...fixed,
  apply: (current, event, key) =>
    event.type === 'TicketReopened' ? current : fixed.apply(current, event, key),
};

export const projections = [buggyTicketDetail, createTicketDetailProjection({ version: 2 })];
