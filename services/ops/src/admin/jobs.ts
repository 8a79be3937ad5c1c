/**
 * Replays started through the admin API run in the admin process, in the background: one job per
 * (projection, version) at a time. A request for a version whose replay is running gets that job back; one for
 * a version already live gets a job that finished at once. Jobs are kept in memory (a restarted admin process
 * forgets them, but a replay is resumable: request it again).
 */
import { randomUUID } from 'node:crypto';
import type { OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ReplayProgress } from '../projection-ops';
import { errorCode } from '../projection-ops/errors';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { AdminMetrics } from './metrics';
import type { ResolvedAdminOptions } from './options';
import { ADMIN_LOGGER, ADMIN_OPTIONS_RESOLVED } from './tokens';

export type ReplayJobState = 'running' | 'live' | 'already-live' | 'failed' | 'stopped';

export interface ReplayJob {
  job: string;
  context: string;
  projection: string;
  version: number;
  state: ReplayJobState;
  actor: string;
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
  progress: ReplayProgress | null;
  /** When done: offsets applied by this job and how long it took. */
  appliedEvents: number | null;
  seconds: number | null;
  error: { code: string; message: string } | null;
}

/** Finished jobs kept for GET (the newest). */
const KEPT_FINISHED = 100;

@Injectable()
export class ReplayJobs implements OnApplicationShutdown {
  private readonly jobs = new Map<string, ReplayJob>();
  private readonly running = new Map<
    string,
    { job: ReplayJob; abort: AbortController; done: Promise<void> }
  >();

  constructor(
    @Inject(ADMIN_OPTIONS_RESOLVED) private readonly options: ResolvedAdminOptions,
    @Inject(ADMIN_LOGGER) private readonly logger: Logger,
    private readonly metrics: AdminMetrics,
  ) {}

  /**
   * Starts (or joins) the replay of a version. Resolves once it is accepted (checked, registered, audited) with
   * the job; a refusal (unknown version, retired, ...) rejects, so the request answers with its code.
   */
  async start(request: {
    projection: string;
    version: number;
    actor: string;
    reason?: string;
    maxEventsPerSecond?: number;
  }): Promise<ReplayJob> {
    const key = `${request.projection}/${request.version}`;
    const existing = this.running.get(key);
    if (existing) return existing.job;
    const job: ReplayJob = {
      job: randomUUID(),
      context: this.options.ops.contextOf(request.projection),
      projection: request.projection,
      version: request.version,
      state: 'running',
      actor: request.actor,
      reason: request.reason ?? null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: null,
      appliedEvents: null,
      seconds: null,
      error: null,
    };
    const abort = new AbortController();
    let accept: (() => void) | undefined;
    const accepted = new Promise<void>((resolve) => {
      accept = resolve;
    });
    const replay = this.options.ops.replay({
      projection: request.projection,
      version: request.version,
      actor: request.actor,
      reason: request.reason,
      maxEventsPerSecond: request.maxEventsPerSecond,
      signal: abort.signal,
      onAccepted: () => accept?.(),
      onProgress: (progress) => {
        job.progress = progress;
      },
    });
    // Refused before it was accepted: no job, the caller gets the error.
    const first = await Promise.race([
      accepted.then(() => 'accepted' as const),
      replay.then(() => 'done' as const),
    ]);
    const done = replay
      .then(
        (outcome) => {
          job.state = outcome.status;
          job.appliedEvents = outcome.appliedEvents;
          job.seconds = outcome.seconds;
          if (outcome.progress) job.progress = outcome.progress;
        },
        (error: unknown) => {
          job.state = 'failed';
          job.error = {
            code: errorCode(error) ?? 'REPLAY_FAILED',
            message: error instanceof Error ? error.message : String(error),
          };
          this.logger.error(
            { err: error, job: job.job, projection: job.projection, version: job.version },
            'replay failed',
          );
        },
      )
      .finally(() => {
        job.finishedAt = new Date().toISOString();
        this.running.delete(key);
        this.metrics.replays.inc({ state: job.state });
        this.trim();
      });
    if (first === 'accepted') this.running.set(key, { job, abort, done });
    this.jobs.set(job.job, job);
    if (first === 'done') await done;
    return job;
  }

  get(id: string): ReplayJob | undefined {
    return this.jobs.get(id);
  }

  list(): ReplayJob[] {
    return [...this.jobs.values()].reverse();
  }

  private trim(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEPT_FINISHED)))
      this.jobs.delete(job.job);
  }

  /** Stops running replays (their versions stay building; requesting them again resumes). */
  async onApplicationShutdown(): Promise<void> {
    const running = [...this.running.values()];
    for (const { abort } of running) abort.abort();
    await Promise.allSettled(running.map((r) => r.done));
  }
}
