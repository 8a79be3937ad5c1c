// @ts-check
/**
 * This repository's deployment module: the contexts `npm start` (`tidemark up`) hosts: listings and tickets. Every service command
 * loads one (`--config <file>` or TIDEMARK_CONFIG; this file when run from the repository root). A team adds
 * its context here: its context definition, its projections and its queries (see docs/guide.md).
 */
const { defineDeployment } = require('@tidemark/sdk');
const { listingsContext } = require('@tidemark/listings');
const { listingProjectionSet, listingQueries, listingsExample } = require('@tidemark/listings-projections');
const { ticketsContext } = require('@tidemark/tickets');
const { ticketProjectionSet, ticketQueries, ticketsExample } = require('@tidemark/tickets-projections');

module.exports = defineDeployment({
  contexts: [
    {
      context: listingsContext,
      projections: listingProjectionSet,
      queries: listingQueries,
      example: listingsExample,
    },
    {
      context: ticketsContext,
      projections: ticketProjectionSet,
      queries: ticketQueries,
      example: ticketsExample,
    },
    // tidemark new context: contexts above this line
  ],
});
