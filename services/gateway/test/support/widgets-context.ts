import { CommandRegistry, EventRegistry } from '@tidemark/schemas';
import type { ContextDefinition } from '@tidemark/sdk';
import { z } from 'zod';

/** A tiny context for the gateway's own tests (the listings context is written elsewhere). */
export function widgetsContext(name = 'widgets'): ContextDefinition {
  return {
    name,
    aggregateType: 'Widget',
    commands: new CommandRegistry({
      CreateWidget: z.object({ name: z.string().min(1).max(50), priceCents: z.number().int().positive() }),
      RenameWidget: z.object({ name: z.string().min(1).max(50) }),
    }),
    events: new EventRegistry([
      {
        type: 'WidgetCreated',
        versions: [
          {
            version: 1,
            schema: z.object({ name: z.string().min(1), priceCents: z.number().int().positive() }),
          },
        ],
      },
      { type: 'WidgetRenamed', versions: [{ version: 1, schema: z.object({ name: z.string().min(1) }) }] },
    ]),
    decider: {
      initialState: () => null,
      decide: () => [],
      evolve: (state) => state,
    },
  };
}
