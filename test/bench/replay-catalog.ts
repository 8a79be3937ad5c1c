/**
 * The replay benchmark's catalog module: v1 with the price bug and v2 with the fix (as in the e2e scenario), plus
 * v3, the same fixed code again, so that one run can replay a quiet baseline (v2) and a replay under live traffic
 * (v3) of the same projection over the same log.
 */
import {
  createListingCardProjection,
  createListingDetailProjection,
  createListingSearchProjection,
  createSellerStatsProjection,
} from '@tidemark/listings-projections';
import type { ProjectionDefinition } from '@tidemark/projection-runtime';
import { projections as priceBugVersions } from '../support/price-bug-catalog';

export const projections: ProjectionDefinition[] = [
  ...priceBugVersions,
  ...([
    createListingDetailProjection({ version: 3 }),
    createSellerStatsProjection({ version: 3 }),
    createListingCardProjection({ version: 3 }),
    createListingSearchProjection({ version: 3 }),
  ] as unknown as ProjectionDefinition[]),
];
