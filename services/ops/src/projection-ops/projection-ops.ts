/**
 * Operator actions on projection versions (issue 6), shared by the `tidemark` CLI and the admin API: list,
 * replay, diff, cutover (full or gradual), rollback, retire and the audit log. The control table is the
 * authority on versions and routes; the sinks' checkpoints are the authority on how far each version got; the
 * events log is the authority on what there is to apply. Every action is recorded in the audit log with who
 * (`actor`) and why (`reason`).
 *
 * This is the facade of one context: each action lives in a file of its own and shares the OpsContext.
 */
import type { AuditRecord } from '@tidemark/projection-runtime';
import { readAuditLog } from './audit';
import type { CutoverOptions, CutoverOutcome } from './cutover';
import { cutoverProjection, rollbackProjection } from './cutover';
import type { DiffOptions } from './diff';
import { diffVersions } from './diff';
import type { DiffResult } from './diff-core';
import type { Actor, ProjectionOpsOptions } from './ops-context';
import { OpsContext } from './ops-context';
import type { ProjectionStatus } from './projection-status';
import { listProjections } from './projection-status';
import type { ReplayOptions, ReplayOutcome } from './replay';
import { replayVersion } from './replay';
import type { RetireOptions, RetireOutcome } from './retire';
import { retireVersion } from './retire';

export { partitionsOfContext } from './context-partitions';
export type { CoverageEntry } from './coverage';
export type { CutoverMode, CutoverOptions, CutoverOutcome } from './cutover';
export type { DiffOptions } from './diff';
export type { Actor, ProjectionOpsOptions } from './ops-context';
export type { PartitionWatermark, ProjectionStatus, VersionStatus } from './projection-status';
export type { ReplayOptions, ReplayOutcome } from './replay';
export type { RetireOptions, RetireOutcome } from './retire';
export { DEFAULT_RETIRE_GRACE_MS } from './retire';

/** The operator actions of one context. */
export class ProjectionOps {
  readonly context: string;
  private readonly ops: OpsContext;

  constructor(options: ProjectionOpsOptions) {
    this.context = options.context;
    this.ops = new OpsContext(options);
  }

  /** Every projection of the context with its versions, their states, watermarks and lag. */
  list(): Promise<ProjectionStatus[]> {
    return listProjections(this.ops);
  }

  /**
   * Builds a version from offset 0 into its own targets while live traffic goes on, in this process, and sets
   * it live once every partition's checkpoint reached the log end read at the same poll. Rerunning after a crash
   * resumes from the sink's checkpoints (nothing is reset).
   */
  replay(options: ReplayOptions): Promise<ReplayOutcome> {
    return replayVersion(this.ops, options);
  }

  /** Compares two versions at a common watermark (per partition the lower checkpoint). */
  diff(options: DiffOptions): Promise<DiffResult> {
    return diffVersions(this.ops, options);
  }

  /** Switches reads to `to` (full), or starts, changes or ends a gradual cutover (shadow, split, abort). */
  cutover(options: CutoverOptions): Promise<CutoverOutcome> {
    return cutoverProjection(this.ops, options);
  }

  /** Switches reads back to the version active before the last switch (same checks as a cutover). */
  rollback(
    options: Actor & { projection: string; force?: boolean; waitMs?: number },
  ): Promise<CutoverOutcome> {
    return rollbackProjection(this.ops, options);
  }

  /**
   * Retires a version that is neither active nor the candidate: projector services stop it, and its targets
   * are dropped once the grace period ends (at once with a grace of 0).
   */
  retire(options: RetireOptions): Promise<RetireOutcome> {
    return retireVersion(this.ops, options);
  }

  /** The audit log of the context, newest first. */
  audit(options: { limit?: number; projection?: string } = {}): Promise<AuditRecord[]> {
    return readAuditLog(this.ops, options);
  }

  close(): Promise<void> {
    return this.ops.close();
  }
}
