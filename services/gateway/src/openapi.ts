import { Inject, Injectable } from '@nestjs/common';
import { API_KEY_SECURITY_SCHEMES, errorBodySchema, errorResponse, schemaRef } from '@tidemark/http';
import { AcceptedOutcome, APPEND_COMMAND_TYPE, CommandOutcome, CommandRequest } from '@tidemark/schemas';
import type { ContextDefinition } from '@tidemark/sdk';
import type { ZodType } from 'zod';
import { z } from 'zod';
import type { ResolvedGatewayOptions } from './options';
import { GATEWAY_OPTIONS_RESOLVED } from './tokens';

type Json = Record<string, unknown>;

function jsonSchema(schema: ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  return rest;
}

const componentName = (...parts: string[]) => parts.map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('.');
const ref = schemaRef;

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};
const consistencyToken = {
  'Consistency-Token': {
    description: 'Token just past the command’s last event; send it with later reads',
    schema: { type: 'string' },
  },
};

/** Builds the OpenAPI 3.1 document from the zod schemas of the request, each context's commands and the outcomes. */
export function buildOpenApiDocument(contexts: readonly ContextDefinition[]): Json {
  const schemas: Json = {
    CommandRequest: jsonSchema(CommandRequest, 'input'),
    AcceptedAnswer: jsonSchema(AcceptedOutcome, 'output'),
    CommandOutcome: jsonSchema(CommandOutcome, 'output'),
    Error: errorBodySchema(),
  };
  const variants: Json[] = [];
  const commandsByContext: Json = {};
  for (const context of contexts) {
    const types: Json = {};
    for (const type of context.commands.types()) {
      const schema = context.commands.schema(type);
      if (!schema || type === APPEND_COMMAND_TYPE) continue;
      const name = componentName(context.name, type, 'Payload');
      schemas[name] = jsonSchema(schema, 'input');
      types[type] = ref(name);
    }
    const eventItems = context.events.types().map((type) => {
      const latest = context.events.definition(type).versions.at(-1);
      return {
        type: 'object',
        properties: {
          type: { const: type },
          payload: latest ? jsonSchema(latest.schema, 'input') : {},
        },
        required: ['type', 'payload'],
      };
    });
    const appendName = componentName(context.name, APPEND_COMMAND_TYPE, 'Payload');
    schemas[appendName] = {
      type: 'object',
      description: 'The built-in append command: events to append with an expected version',
      properties: {
        aggregateType: { const: context.aggregateType },
        events: { type: 'array', minItems: 1, maxItems: 100, items: { anyOf: eventItems } },
      },
      required: ['aggregateType', 'events'],
    };
    types[APPEND_COMMAND_TYPE] = ref(appendName);
    commandsByContext[context.name] = types;
    for (const [type, payload] of Object.entries(types)) {
      variants.push({
        title: `${context.name} ${type}`,
        allOf: [ref('CommandRequest'), { type: 'object', properties: { type: { const: type }, payload } }],
      });
    }
  }

  const contextParam = {
    name: 'context',
    in: 'path',
    required: true,
    schema: { type: 'string', enum: contexts.map((c) => c.name) },
  };
  const headerParam = (name: string, description: string) => ({
    name,
    in: 'header',
    required: false,
    description,
    schema: { type: 'string', minLength: 1, maxLength: 200 },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Tidemark command gateway',
      version: '1.0.0',
      description:
        'Commands append domain events to the log. Every answer that is not a 200 is {error: {code, message, retryable, details?}}.',
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/contexts/{context}/commands': {
        post: {
          operationId: 'submitCommand',
          summary: 'Send a command and wait (bounded) for its outcome',
          description:
            'Needs the scope commands:write:<context>. The request body of each command type is listed in x-tidemark-commands.',
          parameters: [
            contextParam,
            headerParam('Idempotency-Key', 'The command id (a retry returns the first outcome)'),
            headerParam('Correlation-Id', 'Defaults to the command id'),
            headerParam('Causation-Id', 'Defaults to the command id'),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: variants.length > 0 ? { anyOf: variants } : ref('CommandRequest'),
              },
            },
          },
          responses: {
            '200': {
              description: 'Accepted: the events appended',
              headers: consistencyToken,
              content: { 'application/json': { schema: ref('AcceptedAnswer') } },
            },
            '400': errorResponse(
              'Invalid request, payload or command (issues listed in details.issues), malformed JSON, Idempotency-Key mismatch',
            ),
            '401': errorResponse('No or unknown API key', {
              'WWW-Authenticate': { schema: { type: 'string' } },
            }),
            '403': errorResponse('The API key lacks the scope (details.requiredScope)'),
            '404': errorResponse('Unknown context'),
            '409': errorResponse('VERSION_CONFLICT: details.expectedVersion, details.currentVersion'),
            '413': errorResponse('PAYLOAD_TOO_LARGE'),
            '422': errorResponse('Rejected by a business rule (the code names it)'),
            '429': errorResponse('TOO_MANY_IN_FLIGHT', retryAfter),
            '503': errorResponse('COMMAND_PENDING (poll details.location) or LOG_UNAVAILABLE', retryAfter),
          },
        },
      },
      '/v1/contexts/{context}/commands/{commandId}': {
        get: {
          operationId: 'getCommandOutcome',
          summary: 'The outcome of a command this gateway has seen',
          description: 'Needs the scope commands:read:<context>. Statuses as for the POST.',
          parameters: [
            contextParam,
            { name: 'commandId', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'Accepted',
              headers: consistencyToken,
              content: { 'application/json': { schema: ref('AcceptedAnswer') } },
            },
            '400': errorResponse('The command was invalid'),
            '401': errorResponse('No or unknown API key'),
            '403': errorResponse('The API key lacks the scope'),
            '404': errorResponse('CONTEXT_NOT_FOUND or COMMAND_NOT_FOUND'),
            '409': errorResponse('VERSION_CONFLICT'),
            '422': errorResponse('Rejected by a business rule'),
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          security: [],
          responses: { '200': { description: 'The gateway is up' } },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          security: [],
          responses: { '200': { description: 'Prometheus metrics', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openapi', security: [], responses: { '200': { description: 'This document' } } },
      },
    },
    components: {
      schemas,
      securitySchemes: API_KEY_SECURITY_SCHEMES,
    },
    'x-tidemark-commands': commandsByContext,
  };
}

/** The document, built once at start. */
@Injectable()
export class OpenApiDocument {
  readonly document: Json;

  constructor(@Inject(GATEWAY_OPTIONS_RESOLVED) options: ResolvedGatewayOptions) {
    this.document = buildOpenApiDocument([...options.contexts.values()]);
  }
}
