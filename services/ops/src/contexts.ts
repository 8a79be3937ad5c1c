/** The contexts this deployment hosts. Adding one: its schemas, its decider, its projections, and a line here. */
import type { ContextDefinition } from '@tidemark/sdk';
import { listingsContext } from '@tidemark/listings';
import { listingProjections, listingSearchProjection } from '@tidemark/listings-projections';
import type { ProjectionDefinition } from '@tidemark/projection-runtime';

export const CONTEXTS: Record<string, ContextDefinition> = {
  [listingsContext.name]: listingsContext as unknown as ContextDefinition,
};

export function contextByName(name: string): ContextDefinition {
  const context = CONTEXTS[name];
  if (!context) throw new Error(`unknown context '${name}' (known: ${Object.keys(CONTEXTS).join(', ')})`);
  return context;
}

/** Each context's projections (read views), at their current versions. */
export const PROJECTIONS: Record<string, ProjectionDefinition[]> = {
  [listingsContext.name]: [
    ...Object.values(listingProjections()),
    listingSearchProjection,
  ] as unknown as ProjectionDefinition[],
};
