import { join } from 'node:path';
import { defineContext } from '@tidemark/sdk';
import { ticketCommandSchemas } from './commands';
import { ticketDecider } from './decider';
import { ticketEventSchemas } from './events';

export const TICKETS_CONTEXT_NAME = 'tickets';
export const TICKET_AGGREGATE_TYPE = 'ticket';

/** From dist/src/ back to the package root, where schema-samples/ lives (not compiled, not copied). */
export const TICKETS_SCHEMA_SAMPLES_DIR = join(__dirname, '..', '..', 'schema-samples');

/** Support tickets: a requester opens one, agents take, discuss and resolve it, the requester may reopen it. */
export const ticketsContext = defineContext({
  name: TICKETS_CONTEXT_NAME,
  aggregateType: TICKET_AGGREGATE_TYPE,
  commands: ticketCommandSchemas,
  events: ticketEventSchemas,
  decider: ticketDecider,
  schemaSamples: TICKETS_SCHEMA_SAMPLES_DIR,
});

/** The context's registries (validation and upcasting), as the platform uses them. */
export const ticketCommands = ticketsContext.commands;
export const ticketEvents = ticketsContext.events;
