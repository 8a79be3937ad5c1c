/**
 * The public SDK of Tidemark: what a team writes a context with (commands, events, a pure decider), its
 * projections and queries, and the deployment module that hosts them. Light: zod types and @tidemark/schemas.
 * The testing kit is `@tidemark/sdk/testing`.
 */
export * from './append';
export * from './context';
export * from './decider';
export * from './deployment';
export * from './projection';
export * from './queries';
export * from './schema-samples';
export * from './search-mappings';
