import { defineContext } from '@tidemark/sdk';
import { z } from 'zod';
import { {{agg}}CommandSchemas } from './commands';
import { {{agg}}Decider } from './decider';
import { {{agg}}EventSchemas } from './events';

/** Names the topics ({{name}}.commands, {{name}}.events, ...), the gateway route and the API key scopes. */
export const {{NAME}}_CONTEXT_NAME = '{{name}}';
/** Written into every event envelope (`aggregate.type`). */
export const {{AGG}}_AGGREGATE_TYPE = '{{agg-name}}';

/**
 * What {{a agg}} id may be. It becomes the key of every view and a segment of read URLs, so the gateway refuses
 * anything else (400 COMMAND_INVALID) before it reaches the log.
 */
export const {{Agg}}Id = z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/, '1 to 200 letters, digits and . _ : -');

/** The {{name}} context. defineContext checks, when this compiles, that the decider fits the schemas. */
export const {{ctx}}Context = defineContext({
  name: {{NAME}}_CONTEXT_NAME,
  aggregateType: {{AGG}}_AGGREGATE_TYPE,
  commands: {{agg}}CommandSchemas,
  events: {{agg}}EventSchemas,
  decider: {{agg}}Decider,
  aggregateId: {{Agg}}Id,
});
