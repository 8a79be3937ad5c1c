import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_RETRY_AFTER_SECONDS } from '@tidemark/http';
import type { CommandEnvelope, CommandOutcome, Issue } from '@tidemark/schemas';
import {
  APPEND_COMMAND_TYPE,
  AppendPayload,
  CommandRequest,
  TidemarkError,
  zodIssues,
} from '@tidemark/schemas';
import type { ContextDefinition } from '@tidemark/sdk';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { GatewayMetrics } from '../metrics';
import type { ResolvedGatewayOptions } from '../options';
import { COMMAND_TRANSPORT, GATEWAY_LOGGER, GATEWAY_OPTIONS_RESOLVED } from '../tokens';
import type { CommandTransport } from '../transport/command-transport';

/** What the POST handler knows besides the body. */
export interface SubmitInput {
  context: string;
  body: unknown;
  idempotencyKey: string | undefined;
  correlationId: string | undefined;
  causationId: string | undefined;
  principal: string | undefined;
}

export interface AcceptedAnswer {
  status: 'accepted';
  commandId: string;
  aggregateId: string;
  aggregateVersion: number;
  events: unknown[];
  token: string;
}

const HEADER_VALUE_MAX = 200;

/** Validates commands, writes them to the log and turns their outcomes into answers. */
@Injectable()
export class CommandService {
  private inFlight = 0;

  constructor(
    @Inject(GATEWAY_OPTIONS_RESOLVED) private readonly options: ResolvedGatewayOptions,
    @Inject(COMMAND_TRANSPORT) private readonly transport: CommandTransport,
    @Inject(GATEWAY_LOGGER) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  context(name: string): ContextDefinition {
    const context = this.options.contexts.get(name);
    if (!context) throw new TidemarkError('CONTEXT_NOT_FOUND', `unknown context '${name}'`, 404, false);
    return context;
  }

  async submit(input: SubmitInput): Promise<AcceptedAnswer> {
    const context = this.context(input.context);
    const request = parseRequest(input.body);
    const idempotencyKey = headerValue('Idempotency-Key', input.idempotencyKey);
    if (
      idempotencyKey !== undefined &&
      request.commandId !== undefined &&
      idempotencyKey !== request.commandId
    ) {
      throw new TidemarkError(
        'IDEMPOTENCY_KEY_MISMATCH',
        'the Idempotency-Key header and the body commandId differ',
        400,
        false,
        { idempotencyKey, commandId: request.commandId },
      );
    }
    const commandId = idempotencyKey ?? request.commandId ?? uuidv7();
    const correlationId = headerValue('Correlation-Id', input.correlationId) ?? commandId;
    const causationId = headerValue('Causation-Id', input.causationId) ?? commandId;
    validateAggregateId(context, request.aggregateId);
    const payload = validatePayload(context, request.type, request.payload);

    const envelope: CommandEnvelope = {
      commandId,
      type: request.type,
      aggregateId: request.aggregateId,
      ...(request.expectedVersion !== undefined ? { expectedVersion: request.expectedVersion } : {}),
      payload,
      metadata: {
        correlationId,
        causationId,
        ...(input.principal !== undefined ? { principal: input.principal } : {}),
        receivedAt: new Date().toISOString(),
      },
    };

    // A command id already answered gets its first outcome again, without a trip through the log.
    const known = this.transport.lookupOutcome(context.name, commandId);
    if (known) return this.answer(context.name, request.type, known);

    if (this.inFlight >= this.options.maxInFlight) {
      throw new TidemarkError(
        'TOO_MANY_IN_FLIGHT',
        `more than ${this.options.maxInFlight} commands are waiting; retry later`,
        429,
        true,
        { maxInFlight: this.options.maxInFlight },
        { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) },
      );
    }
    this.inFlight++;
    this.metrics.inFlight.set(this.inFlight);
    const started = process.hrtime.bigint();
    try {
      // The waiter is registered before the send: an outcome cannot arrive unseen in between.
      const waiting = this.transport.awaitOutcome(context.name, commandId, this.options.waitTimeoutMs);
      try {
        await this.transport.send(context.name, envelope);
      } catch (error) {
        waiting.catch(() => undefined);
        if (error instanceof TidemarkError && error.code === 'LOG_UNAVAILABLE') {
          this.metrics.outcomes.inc({ context: context.name, type: request.type, status: 'log_unavailable' });
          throw new TidemarkError(
            error.code,
            error.message,
            503,
            true,
            { ...error.details, commandId },
            { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) },
          );
        }
        throw error;
      }
      const outcome = await waiting;
      this.metrics.waitSeconds.observe(
        { context: context.name },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      if (!outcome) {
        this.metrics.outcomes.inc({ context: context.name, type: request.type, status: 'pending' });
        const location = `/v1/contexts/${encodeURIComponent(context.name)}/commands/${encodeURIComponent(commandId)}`;
        throw new TidemarkError(
          'COMMAND_PENDING',
          `no outcome within ${this.options.waitTimeoutMs} ms; the command may still be applied: poll its location or retry with the same Idempotency-Key`,
          503,
          true,
          { commandId, location },
          { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS), Location: location },
        );
      }
      return this.answer(context.name, request.type, outcome);
    } finally {
      this.inFlight--;
      this.metrics.inFlight.set(this.inFlight);
    }
  }

  /** GET: the outcome if this gateway has seen it. */
  lookup(contextName: string, commandId: string): AcceptedAnswer {
    const context = this.context(contextName);
    const outcome = this.transport.lookupOutcome(context.name, commandId);
    if (!outcome) {
      throw new TidemarkError(
        'COMMAND_NOT_FOUND',
        `no outcome is known for command '${commandId}'`,
        404,
        false,
        {
          commandId,
        },
      );
    }
    return toAnswer(outcome);
  }

  private answer(context: string, type: string, outcome: CommandOutcome): AcceptedAnswer {
    this.metrics.outcomes.inc({ context, type, status: outcome.status });
    if (outcome.status !== 'accepted') {
      this.logger.debug(
        { context, type, commandId: outcome.commandId, status: outcome.status },
        'command not accepted',
      );
    }
    return toAnswer(outcome);
  }
}

/** accepted -> the 200 body; everything else -> the error it is answered with. */
export function toAnswer(outcome: CommandOutcome): AcceptedAnswer {
  switch (outcome.status) {
    case 'accepted':
      return {
        status: 'accepted',
        commandId: outcome.commandId,
        aggregateId: outcome.aggregateId,
        aggregateVersion: outcome.aggregateVersion,
        events: outcome.events,
        token: outcome.token,
      };
    case 'rejected':
      throw new TidemarkError(outcome.code, outcome.message, 422, false, {
        status: outcome.status,
        commandId: outcome.commandId,
        aggregateId: outcome.aggregateId,
        aggregateVersion: outcome.aggregateVersion,
      });
    case 'conflict':
      throw new TidemarkError(
        'VERSION_CONFLICT',
        `expected version ${String(outcome.expectedVersion)} but the aggregate is at ${outcome.currentVersion}`,
        409,
        false,
        {
          status: outcome.status,
          commandId: outcome.commandId,
          aggregateId: outcome.aggregateId,
          expectedVersion: outcome.expectedVersion,
          currentVersion: outcome.currentVersion,
        },
      );
    case 'invalid':
      throw new TidemarkError(outcome.code, outcome.message, 400, false, {
        status: outcome.status,
        commandId: outcome.commandId,
        aggregateId: outcome.aggregateId,
        issues: outcome.issues,
      });
  }
}

function parseRequest(body: unknown): CommandRequest {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TidemarkError(
      'COMMAND_REQUEST_INVALID',
      'the body must be a JSON object (Content-Type: application/json)',
      400,
      false,
      { issues: [{ path: '(root)', message: 'expected a JSON object' }] },
    );
  }
  const parsed = CommandRequest.safeParse(body);
  if (!parsed.success) {
    throw new TidemarkError('COMMAND_REQUEST_INVALID', 'the command request is invalid', 400, false, {
      issues: zodIssues(parsed.error),
    });
  }
  return parsed.data;
}

function headerValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > HEADER_VALUE_MAX) {
    throw new TidemarkError(
      'HEADER_INVALID',
      `${name} must be 1 to ${HEADER_VALUE_MAX} characters`,
      400,
      false,
      {
        header: name,
      },
    );
  }
  return trimmed;
}

/** A context may restrict its aggregate ids (ContextDefinition.aggregateId): they become every view's keys. */
function validateAggregateId(context: ContextDefinition, aggregateId: string): void {
  const parsed = context.aggregateId?.safeParse(aggregateId);
  if (!parsed || parsed.success) return;
  throw new TidemarkError(
    'COMMAND_INVALID',
    `aggregateId is not a valid ${context.aggregateType} id`,
    400,
    false,
    {
      issues: zodIssues(parsed.error).map((issue) => ({
        path: issue.path === '(root)' ? 'aggregateId' : `aggregateId.${issue.path}`,
        message: issue.message,
      })),
    },
  );
}

/** Validates the payload with the context's registries; returns the parsed payload. */
function validatePayload(context: ContextDefinition, type: string, payload: unknown): unknown {
  if (type !== APPEND_COMMAND_TYPE) return context.commands.validate(type, payload);
  const parsed = AppendPayload.safeParse(payload);
  if (!parsed.success) {
    throw new TidemarkError('COMMAND_INVALID', `payload of ${type} is invalid`, 400, false, {
      issues: zodIssues(parsed.error),
    });
  }
  const issues: Issue[] = [];
  if (parsed.data.aggregateType !== context.aggregateType) {
    issues.push({
      path: 'aggregateType',
      message: `context '${context.name}' holds aggregates of type '${context.aggregateType}'`,
    });
  }
  const events = parsed.data.events.map((event, index) => {
    if (!context.events.has(event.type)) {
      issues.push({ path: `events.${index}.type`, message: `unknown event type '${event.type}'` });
      return event;
    }
    try {
      return { type: event.type, payload: context.events.validateNew(event.type, event.payload) };
    } catch (error) {
      if (!(error instanceof TidemarkError)) throw error;
      const nested = error.details?.issues;
      if (Array.isArray(nested)) {
        for (const issue of nested as Issue[]) {
          const suffix = issue.path === '(root)' ? '' : `.${issue.path}`;
          issues.push({ path: `events.${index}.payload${suffix}`, message: issue.message });
        }
      } else {
        issues.push({ path: `events.${index}`, message: error.message });
      }
      return event;
    }
  });
  if (issues.length > 0) {
    throw new TidemarkError('COMMAND_INVALID', `payload of ${type} is invalid`, 400, false, { issues });
  }
  return { aggregateType: parsed.data.aggregateType, events };
}
