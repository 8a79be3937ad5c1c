/**
 * Testing helpers of the protocol package, public for the packages above it (the broker's tests): record batches
 * encoded by kafkajs's own producer encoder, the reference bytes codecs are checked against. Loading this subpath
 * needs kafkajs (2.2.4) installed; the codecs themselves never load it. Its internal modules are typed in the
 * kafkajs-*.d.ts files beside this one; a package that drives them itself includes those files in its tsconfig.
 */
export type { BatchOptions } from './reference-batches';
export { makeBatch } from './reference-batches';
