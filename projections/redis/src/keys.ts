/**
 * Redis key layout of one projection version. Every key of a partition carries the same hash tag
 * `{<ctx>:<name>:v<N>:p<P>}`, so a cluster keeps a partition's documents and its checkpoint in one slot and the
 * commit script may touch them together (DESIGN.md, Projections and sinks).
 */

export interface RedisKeyspace {
  /** `tm:{<ctx>:<name>:v<N>:p<P>}:d:<key>` */
  documentKey(partition: number, key: string): string;
  /** `tm:{<ctx>:<name>:v<N>:p<P>}:cp` */
  checkpointKey(partition: number): string;
  /** `tm:{<ctx>:<name>:v<N>}:partitions`: the partitions that have committed, so checkpoints() needs no SCAN. */
  registryKey: string;
  /** SCAN pattern matching every partition key of the version (documents and checkpoints), for drop(). */
  partitionKeysPattern: string;
}

/** Context and projection names become part of keys and a SCAN pattern: keep them to a safe alphabet. */
const NAME = /^[A-Za-z0-9._-]+$/;

export function redisKeyspace(projection: { context: string; name: string; version: number }): RedisKeyspace {
  const { context, name, version } = projection;
  if (!NAME.test(context))
    throw new Error(`redis sink: context ${JSON.stringify(context)} is not [A-Za-z0-9._-]+`);
  if (!NAME.test(name))
    throw new Error(`redis sink: projection name ${JSON.stringify(name)} is not [A-Za-z0-9._-]+`);
  if (!Number.isSafeInteger(version) || version < 1) throw new Error(`redis sink: bad version ${version}`);
  const base = `${context}:${name}:v${version}`;
  const tag = (partition: number): string => {
    if (!Number.isSafeInteger(partition) || partition < 0)
      throw new Error(`redis sink: bad partition ${partition}`);
    return `tm:{${base}:p${partition}}`;
  };
  return {
    documentKey: (partition, key) => `${tag(partition)}:d:${key}`,
    checkpointKey: (partition) => `${tag(partition)}:cp`,
    registryKey: `tm:{${base}}:partitions`,
    // `:p` right after the version keeps v1 from matching v10; the names hold no glob characters (NAME).
    partitionKeysPattern: `tm:{${base}:p*}:*`,
  };
}
