/** The contexts this deployment hosts. Adding one: its schemas, its decider, its projections, and a line here. */
import type { ContextDefinition } from '@tidemark/domain';
import { listingsContext } from '@tidemark/listings';

export const CONTEXTS: Record<string, ContextDefinition> = {
  [listingsContext.name]: listingsContext as unknown as ContextDefinition,
};

export function contextByName(name: string): ContextDefinition {
  const context = CONTEXTS[name];
  if (!context) throw new Error(`unknown context '${name}' (known: ${Object.keys(CONTEXTS).join(', ')})`);
  return context;
}
