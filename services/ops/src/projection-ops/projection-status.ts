/**
 * `tidemark projections list`: every projection of a context with its versions, their states (the control
 * table's), watermarks (the sinks' checkpoints) and lag (against the events topic's log ends).
 */
import type {
  ProjectionCandidate,
  ProjectionRoute,
  ProjectionVersionRow,
  ProjectionVersionState,
  ShadowReport,
  StoreKind,
} from '@tidemark/projection-runtime';
import { control as controlCall } from './errors';
import type { OpsContext } from './ops-context';

export interface PartitionWatermark {
  partition: number;
  /** The version's checkpoint (0 when the partition was never written). */
  watermark: number;
  /** The events topic's log end (last stable offset), null when the broker did not answer. */
  logEnd: number | null;
  lag: number | null;
}

export interface VersionStatus {
  version: number;
  store: StoreKind;
  /** From the control table; `unregistered` for a catalog version never replayed. */
  state: ProjectionVersionState | 'unregistered';
  active: boolean;
  /** The version `rollback` would return to. */
  previous: boolean;
  /** Set when this version is the gradual-cutover candidate. */
  candidate: ProjectionCandidate | null;
  /** Whether this deployment's code (the catalog) defines the version. */
  inCatalog: boolean;
  registeredAt: string | null;
  updatedAt: string | null;
  retireAfter: string | null;
  droppedAt: string | null;
  partitions: PartitionWatermark[];
  /** Sum of the partitions' lag (null when unknown). */
  lag: number | null;
  /** Why the watermarks could not be read (store not configured or unreachable). */
  error?: string;
}

export interface ProjectionStatus {
  context: string;
  projection: string;
  active: number | null;
  previous: number | null;
  candidate: ProjectionCandidate | null;
  versions: VersionStatus[];
  shadowReports: ShadowReport[];
}

/** Every projection of the context with its versions, their states, watermarks and lag. */
export async function listProjections(ops: OpsContext): Promise<ProjectionStatus[]> {
  const [rows, routes] = await Promise.all([
    controlCall(() => ops.control.list()),
    controlCall(() => ops.control.routes()),
  ]);
  const ends = await ops.logEnds().catch((error: unknown) => {
    ops.logger.warn({ err: error }, 'log ends not readable');
    return null;
  });
  const names = [
    ...new Set([
      ...ops.catalog.names(ops.context),
      ...rows.filter((r) => r.context === ops.context).map((r) => r.projection),
    ]),
  ].sort();
  const out: ProjectionStatus[] = [];
  for (const projection of names) {
    const own = rows.filter((r) => r.context === ops.context && r.projection === projection);
    const route = routes.find((r) => r.context === ops.context && r.projection === projection) ?? null;
    const versions: VersionStatus[] = [];
    for (const [version, store] of storesOf(ops, projection, own)) {
      versions.push(await versionStatus(ops, projection, version, store, own, route, ends));
    }
    out.push({
      context: ops.context,
      projection,
      active: route?.active ?? null,
      previous: route?.previous ?? null,
      candidate: route?.candidate ?? null,
      versions,
      shadowReports: await controlCall(() => ops.control.shadowReports(ops.context, projection)),
    });
  }
  return out;
}

/** Each version the catalog or the control table knows, ascending, with its store (the control table's first). */
function storesOf(
  ops: OpsContext,
  projection: string,
  rows: readonly ProjectionVersionRow[],
): [number, StoreKind][] {
  const stores = new Map<number, StoreKind>(
    ops.catalog.versions(ops.context, projection).map((d) => [d.version, d.store]),
  );
  for (const row of rows) stores.set(row.version, row.store);
  return [...stores].sort((x, y) => x[0] - y[0]);
}

async function versionStatus(
  ops: OpsContext,
  projection: string,
  version: number,
  store: StoreKind,
  rows: readonly ProjectionVersionRow[],
  route: ProjectionRoute | null,
  ends: number[] | null,
): Promise<VersionStatus> {
  const row = rows.find((r) => r.version === version);
  const inCatalog = ops.catalog.find(ops.context, projection, version);
  const status: VersionStatus = {
    version,
    store,
    state: row?.state ?? 'unregistered',
    active: route?.active === version,
    previous: route?.previous === version,
    candidate: route?.candidate?.version === version ? route.candidate : null,
    inCatalog: inCatalog !== undefined,
    registeredAt: row?.registeredAt.toISOString() ?? null,
    updatedAt: row?.updatedAt.toISOString() ?? null,
    retireAfter: row?.retireAfter?.toISOString() ?? null,
    droppedAt: row?.droppedAt?.toISOString() ?? null,
    partitions: [],
    lag: null,
  };
  if (row?.droppedAt || !row) return status;
  try {
    const checkpoints = await ops.checkpointsOf(ops.sinkOf(ops.definitionOf(projection, version, rows)));
    status.partitions = checkpoints.map((watermark, partition) => {
      const logEnd = ends?.[partition] ?? null;
      return {
        partition,
        watermark,
        logEnd,
        lag: logEnd === null ? null : Math.max(0, logEnd - watermark),
      };
    });
    status.lag = ends ? status.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0) : null;
  } catch (error) {
    status.error = (error as Error).message;
  }
  return status;
}
