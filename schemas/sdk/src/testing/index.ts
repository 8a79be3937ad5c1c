/** The testing kit a team uses in its own tests (node:test and node:assert; no store, no broker). */
export * from './decider-specification';
export * from './projection-specification';
export * from './reference-fold';
