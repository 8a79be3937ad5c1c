import { join } from 'node:path';
import { defineContext } from '@tidemark/sdk';
import { listingCommandSchemas } from './commands';
import { listingDecider } from './decider';
import { listingEventSchemas } from './events';

export const LISTINGS_CONTEXT_NAME = 'listings';
export const LISTING_AGGREGATE_TYPE = 'listing';

/** From dist/src/ back to the package root, where schema-samples/ lives (not compiled, not copied). */
export const LISTINGS_SCHEMA_SAMPLES_DIR = join(__dirname, '..', '..', 'schema-samples');

/** The example context: adverts of a marketplace (docs/design.md, The example contexts). */
export const listingsContext = defineContext({
  name: LISTINGS_CONTEXT_NAME,
  aggregateType: LISTING_AGGREGATE_TYPE,
  commands: listingCommandSchemas,
  events: listingEventSchemas,
  decider: listingDecider,
  schemaSamples: LISTINGS_SCHEMA_SAMPLES_DIR,
});

/** The context's registries (validation and upcasting), as the platform uses them. */
export const listingCommands = listingsContext.commands;
export const listingEvents = listingsContext.events;
