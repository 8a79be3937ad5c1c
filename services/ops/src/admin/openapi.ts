/** The admin API's OpenAPI 3.1 document (GET /openapi.json). Request bodies come from the zod schemas. */
import { API_KEY_SECURITY_SCHEMES, errorBodySchema, errorResponse, schemaRef } from '@tidemark/http';
import { z } from 'zod';
import { CutoverBody, ReplayBody, RetireBody, RollbackBody } from './admin.controller';

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  return rest;
}

const ref = schemaRef;
const error = (description: string) => errorResponse(description);
const json = (description: string, schema: Json = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Projection name',
};
const auth = {
  '401': error('UNAUTHENTICATED: no or unknown API key'),
  '403': error('FORBIDDEN: the key lacks the admin scope'),
};
const conflicts =
  'Refused: CUTOVER_LAGGING, VERSION_NOT_LIVE, ALREADY_ACTIVE, VERSION_ACTIVE, ROUTE_CHANGED, NO_PREVIOUS_VERSION, VERSION_RETIRED, VERSION_DROPPED';
const body = (schema: z.ZodType) => ({
  required: false,
  content: { 'application/json': { schema: schemaOf(schema) } },
});

export const ADMIN_OPENAPI: Json = {
  openapi: '3.1.0',
  info: {
    title: 'Tidemark admin API',
    version: '1',
    description:
      'Operator actions on projection versions: list, replay, diff, cutover, rollback, retire, audit log. Every route needs an API key with the `admin` scope (or `*`); the key id is recorded as the actor in the audit log.',
  },
  security: [{ bearer: [] }, { apiKey: [] }],
  paths: {
    '/v1/admin/projections': {
      get: {
        summary: 'Projections, their versions, states, watermarks and lag per partition, shadow reports',
        responses: { '200': json('The projections of the context'), ...auth },
      },
    },
    '/v1/admin/projections/{name}/replays': {
      post: {
        summary:
          'Replay (build) a version in the background; a running replay of the same version is returned',
        parameters: [name],
        requestBody: body(ReplayBody),
        responses: {
          '202': json('The replay job', ref('ReplayJob')),
          '400': error('INVALID_REQUEST'),
          ...auth,
          '404': error('UNKNOWN_PROJECTION, UNKNOWN_VERSION (not in the catalog)'),
          '409': error('VERSION_RETIRED'),
        },
      },
    },
    '/v1/admin/replays': {
      get: { summary: 'Replay jobs of this admin process', responses: { '200': json('Jobs'), ...auth } },
    },
    '/v1/admin/replays/{job}': {
      get: {
        summary: 'A replay job: state (running, live, already-live, failed, stopped) and progress',
        parameters: [{ name: 'job', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': json('The job', ref('ReplayJob')), ...auth, '404': error('JOB_NOT_FOUND') },
      },
    },
    '/v1/admin/projections/{name}/diff': {
      get: {
        summary: 'Compare two versions at their common watermark',
        parameters: [
          name,
          { name: 'a', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } },
          { name: 'b', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } },
          {
            name: 'sample',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0, default: 10 },
          },
        ],
        responses: {
          '200': json('Counts, differences and a sample with field-level paths'),
          '400': error('INVALID_REQUEST'),
          ...auth,
          '404': error('UNKNOWN_PROJECTION, UNKNOWN_VERSION'),
        },
      },
    },
    '/v1/admin/projections/{name}/cutover': {
      post: {
        summary:
          'Switch reads to a version (full), or start/change/end a gradual cutover (shadow, split, abort)',
        parameters: [name],
        requestBody: body(CutoverBody),
        responses: {
          '200': json('What changed'),
          '400': error('INVALID_REQUEST'),
          ...auth,
          '404': error('UNKNOWN_VERSION'),
          '409': error(conflicts),
        },
      },
    },
    '/v1/admin/projections/{name}/rollback': {
      post: {
        summary: 'Switch reads back to the previous version',
        parameters: [name],
        requestBody: body(RollbackBody),
        responses: { '200': json('What changed'), ...auth, '409': error(conflicts) },
      },
    },
    '/v1/admin/projections/{name}/retire': {
      post: {
        summary:
          'Retire a version that is not active; its targets are dropped after graceSeconds (default 600)',
        parameters: [name],
        requestBody: body(RetireBody),
        responses: {
          '200': json('Retired'),
          ...auth,
          '404': error('UNKNOWN_VERSION'),
          '409': error(conflicts),
        },
      },
    },
    '/v1/admin/audit': {
      get: {
        summary: 'The audit log, newest first',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, default: 50 },
          },
          { name: 'projection', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': json('{entries: [{id, at, actor, action, projection, version, reason, details}]}'),
          ...auth,
        },
      },
    },
    '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': json('ok') } } },
    '/metrics': {
      get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text' } } },
    },
  },
  components: {
    securitySchemes: API_KEY_SECURITY_SCHEMES,
    schemas: {
      Error: errorBodySchema(),
      ReplayJob: {
        type: 'object',
        properties: {
          job: { type: 'string' },
          projection: { type: 'string' },
          version: { type: 'integer' },
          state: { type: 'string', enum: ['running', 'live', 'already-live', 'failed', 'stopped'] },
          actor: { type: 'string' },
          progress: {
            type: ['object', 'null'],
            description:
              '{appliedEvents, eventsPerSecond, lag, etaSeconds, partitions: [{partition, checkpoint, logEnd, lag}]}',
          },
          error: { type: ['object', 'null'] },
        },
      },
    },
  },
};
