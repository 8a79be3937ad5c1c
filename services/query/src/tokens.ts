/** Nest injection tokens. */
export const QUERY_OPTIONS_RESOLVED = Symbol.for('tidemark.query.options.resolved');
export const QUERY_LOGGER = Symbol.for('tidemark.query.logger');
