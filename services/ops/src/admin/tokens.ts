/** Nest injection tokens of the admin API. */
export const ADMIN_OPTIONS = Symbol.for('tidemark.admin.options');
export const ADMIN_OPTIONS_RESOLVED = Symbol.for('tidemark.admin.options.resolved');
export const ADMIN_LOGGER = Symbol.for('tidemark.admin.logger');
