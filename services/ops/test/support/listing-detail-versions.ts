/**
 * A catalog module for the ops tests (`--catalog` of its compiled .js): versions 2 and 3 of listing-detail, the
 * same code as the built-in version 1, so a replayed version must compare equal to it.
 */
import { createListingDetailProjection } from '@tidemark/listings-projections';

export const projections = [
  createListingDetailProjection({ version: 2 }),
  createListingDetailProjection({ version: 3 }),
];
