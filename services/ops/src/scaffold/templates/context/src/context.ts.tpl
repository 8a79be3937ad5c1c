import { defineContext } from '@tidemark/sdk';
import { {{agg}}CommandSchemas } from './commands';
import { {{agg}}Decider } from './decider';
import { {{agg}}EventSchemas } from './events';

/** Names the topics ({{name}}.commands, {{name}}.events, ...), the gateway route and the API key scopes. */
export const {{NAME}}_CONTEXT_NAME = '{{name}}';
/** Written into every event envelope (`aggregate.type`). */
export const {{AGG}}_AGGREGATE_TYPE = '{{agg-name}}';

/** The {{name}} context. defineContext checks, when this compiles, that the decider fits the schemas. */
export const {{ctx}}Context = defineContext({
  name: {{NAME}}_CONTEXT_NAME,
  aggregateType: {{AGG}}_AGGREGATE_TYPE,
  commands: {{agg}}CommandSchemas,
  events: {{agg}}EventSchemas,
  decider: {{agg}}Decider,
});
