import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { RequireScope, ScopeGuard } from '@tidemark/http';
import { invalid, TidemarkError } from '@tidemark/schemas';
import { z } from 'zod';
import type { CutoverOutcome, ProjectionStatus, RetireOutcome } from '../projection-ops';
import type { DiffResult } from '../projection-ops/diff-core';
import type { ReplayJob } from './jobs';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { ReplayJobs } from './jobs';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { AdminMetrics } from './metrics';
import type { ResolvedAdminOptions } from './options';
import { ADMIN_SCOPE } from './options';
import type { AdminRequest } from './request';
import { ADMIN_OPTIONS_RESOLVED } from './tokens';

const PROJECTION_NAME = /^[a-z0-9][a-z0-9-]{0,99}$/;
const version = z.number().int().min(1);
const reason = z.string().max(1000).optional();

export const ReplayBody = z.strictObject({
  version,
  reason,
  maxEventsPerSecond: z.number().int().min(1).optional(),
});
export const CutoverBody = z
  .strictObject({
    to: version.optional(),
    force: z.boolean().optional(),
    /** How long to wait for the version to cover the active one before CUTOVER_LAGGING (default 10). */
    waitSeconds: z.number().min(0).max(300).optional(),
    mode: z.enum(['full', 'shadow', 'split']).optional(),
    percent: z.number().min(0).max(100).optional(),
    abort: z.boolean().optional(),
    reason,
  })
  .refine((b) => b.abort === true || b.to !== undefined, {
    message: 'to is required unless abort',
    path: ['to'],
  })
  .refine((b) => b.mode !== 'split' || b.percent !== undefined, {
    message: 'a split cutover needs percent',
    path: ['percent'],
  });
export const RollbackBody = z.strictObject({
  force: z.boolean().optional(),
  waitSeconds: z.number().min(0).max(300).optional(),
  reason,
});
export const RetireBody = z.strictObject({
  version,
  graceSeconds: z
    .number()
    .min(0)
    .max(365 * 86_400)
    .optional(),
  reason,
});
const intParam = (max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(max));
export const DiffQuery = z.object({
  a: intParam(1_000_000_000).pipe(z.number().min(1)),
  b: intParam(1_000_000_000).pipe(z.number().min(1)),
  sample: intParam(100_000).optional(),
});
export const AuditQuery = z.object({
  limit: intParam(10_000).pipe(z.number().min(1)).optional(),
  projection: z.string().regex(PROJECTION_NAME).optional(),
});

function projectionName(name: string): string {
  if (!PROJECTION_NAME.test(name)) {
    throw invalid('INVALID_PROJECTION_NAME', 'a projection name is lowercase letters, digits and dashes', {
      projection: name,
    });
  }
  return name;
}

/** The audit log's actor: the API key id (the guard set the principal). */
function actorOf(request: AdminRequest): string {
  return request.principal?.id ?? 'unknown';
}

@Controller('v1/admin')
@UseGuards(ScopeGuard)
@RequireScope(ADMIN_SCOPE)
export class AdminController {
  constructor(
    @Inject(ADMIN_OPTIONS_RESOLVED) private readonly options: ResolvedAdminOptions,
    private readonly jobs: ReplayJobs,
    private readonly metrics: AdminMetrics,
  ) {}

  private async action<T>(name: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.metrics.actions.inc({ action: name, outcome: 'ok' });
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      this.metrics.actions.inc({ action: name, outcome: typeof code === 'string' ? code : 'error' });
      throw error;
    }
  }

  @Get('projections')
  async projections(): Promise<{ contexts: string[]; projections: ProjectionStatus[] }> {
    return { contexts: this.options.ops.contexts(), projections: await this.options.ops.list() };
  }

  @Post('projections/:name/replays')
  @HttpCode(202)
  async replay(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: AdminRequest,
  ): Promise<ReplayJob> {
    const projection = projectionName(name);
    const parsed = ReplayBody.parse(body ?? {});
    return this.action('replay', () =>
      this.jobs.start({
        projection,
        version: parsed.version,
        actor: actorOf(request),
        reason: parsed.reason,
        maxEventsPerSecond: parsed.maxEventsPerSecond,
      }),
    );
  }

  @Get('replays')
  replays(): { jobs: ReplayJob[] } {
    return { jobs: this.jobs.list() };
  }

  @Get('replays/:job')
  replayJob(@Param('job') id: string): ReplayJob {
    const job = this.jobs.get(id);
    if (!job)
      throw new TidemarkError('JOB_NOT_FOUND', `no replay job ${id} (jobs are kept in memory)`, 404, false, {
        job: id,
      });
    return job;
  }

  @Get('projections/:name/diff')
  async diff(@Param('name') name: string, @Query() query: Record<string, unknown>): Promise<DiffResult> {
    const projection = projectionName(name);
    const parsed = DiffQuery.parse(query ?? {});
    return this.action('diff', () =>
      this.options.ops.diff({ projection, a: parsed.a, b: parsed.b, sample: parsed.sample }),
    );
  }

  @Post('projections/:name/cutover')
  @HttpCode(200)
  async cutover(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: AdminRequest,
  ): Promise<CutoverOutcome> {
    const projection = projectionName(name);
    const parsed = CutoverBody.parse(body ?? {});
    return this.action('cutover', () =>
      this.options.ops.cutover({
        projection,
        to: parsed.to,
        force: parsed.force,
        waitMs: parsed.waitSeconds === undefined ? undefined : parsed.waitSeconds * 1000,
        mode: parsed.mode ?? (parsed.percent !== undefined ? 'split' : 'full'),
        percent: parsed.percent,
        abort: parsed.abort,
        actor: actorOf(request),
        reason: parsed.reason,
      }),
    );
  }

  @Post('projections/:name/rollback')
  @HttpCode(200)
  async rollback(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: AdminRequest,
  ): Promise<CutoverOutcome> {
    const projection = projectionName(name);
    const parsed = RollbackBody.parse(body ?? {});
    return this.action('rollback', () =>
      this.options.ops.rollback({
        projection,
        force: parsed.force,
        waitMs: parsed.waitSeconds === undefined ? undefined : parsed.waitSeconds * 1000,
        actor: actorOf(request),
        reason: parsed.reason,
      }),
    );
  }

  @Post('projections/:name/retire')
  @HttpCode(200)
  async retire(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: AdminRequest,
  ): Promise<RetireOutcome> {
    const projection = projectionName(name);
    const parsed = RetireBody.parse(body ?? {});
    return this.action('retire', () =>
      this.options.ops.retire({
        projection,
        version: parsed.version,
        graceMs: parsed.graceSeconds === undefined ? undefined : Math.round(parsed.graceSeconds * 1000),
        actor: actorOf(request),
        reason: parsed.reason,
      }),
    );
  }

  @Get('audit')
  async audit(@Query() query: Record<string, unknown>) {
    const parsed = AuditQuery.parse(query ?? {});
    return {
      entries: await this.options.ops.audit({ limit: parsed.limit, projection: parsed.projection }),
    };
  }
}
