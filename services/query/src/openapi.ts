/**
 * The OpenAPI 3.1 document of the query API, generated from the query definitions of the contexts it serves:
 * a path per query with its parameters, its scope and its errors; the documents' schemas from the projections'
 * zod schemas where they declare one (`document`).
 */
import { Inject, Injectable } from '@nestjs/common';
import { API_KEY_SECURITY_SCHEMES, errorBodySchema, errorResponse, schemaRef } from '@tidemark/http';
import type { NamedQuery, ProjectionDefinition, SearchQuery } from '@tidemark/sdk';
import { z } from 'zod';
import type { ResolvedQueryOptions } from './options';
import { MAX_QUERY_WAIT_TIMEOUT_MS } from './options';
import { MAX_ID_LENGTH } from './queries/document-read';
import { MAX_FILTER_LENGTH } from './search/search-params';
import { QUERY_OPTIONS_RESOLVED } from './tokens';

type Json = Record<string, unknown>;

const ref = schemaRef;
const error = errorResponse;
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

const answerHeaders = {
  'Consistency-Token': {
    description: 'The watermark of the view read, merged with the request token: merge it into later tokens',
    schema: { type: 'string' },
  },
  'Consistency-Stale': {
    description: 'Present ("true") when stale=ok was asked and the view did not cover the request token',
    schema: { type: 'string', enum: ['true'] },
  },
  'Consistency-Version': {
    description:
      'The version of the view that answered: the active one, or during a gradual cutover (split) the candidate',
    schema: { type: 'integer' },
  },
  'X-Tidemark-Source': {
    description:
      "The store that answered (postgres, redis, memcached, elasticsearch), or <store>-fallback when the query's fallback view answered",
    schema: { type: 'string' },
  },
  'X-Tidemark-View': { description: 'The view version read, <projection>.v<N>', schema: { type: 'string' } },
};

const envelope = (data: Json) => ({
  type: 'object',
  properties: {
    data,
    token: { type: 'string', description: 'Same as the Consistency-Token response header' },
    stale: { const: true, description: 'Only present on a stale answer (stale=ok)' },
  },
  required: ['data', 'token'],
});

/** `listing-detail` -> `ListingDetail`. */
const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
const camel = (name: string) => {
  const p = pascal(name);
  return (p[0]?.toLowerCase() ?? '') + p.slice(1);
};

/** The JSON Schema of a view's documents: its zod schema's, or "an object" when the projection declares none. */
function documentSchema(view: ProjectionDefinition): Json {
  if (!view.document) return { type: 'object', description: `A document of the ${view.name} view` };
  const { $schema: _, ...schema } = z.toJSONSchema(view.document, {
    io: 'output',
    unrepresentable: 'any',
  }) as Json;
  return schema;
}

function searchResultSchema(query: SearchQuery, documentRef: Json): Json {
  const facets = Object.keys(query.facets);
  return {
    type: 'object',
    properties: {
      total: { type: 'integer', description: 'Every match, not only this page' },
      hits: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            score: { type: ['number', 'null'], description: 'null unless sorted by relevance' },
            [query.hit]: documentRef,
          },
          required: ['id', 'score', query.hit],
        },
      },
      facets: {
        type: 'object',
        properties: Object.fromEntries(
          facets.map((name) => [
            name,
            {
              type: 'array',
              description: `Matches per ${query.facets[name]?.field} (over all matches)`,
              items: {
                type: 'object',
                properties: { key: { type: 'string' }, count: { type: 'integer' } },
                required: ['key', 'count'],
              },
            },
          ]),
        ),
        required: facets,
      },
    },
    required: ['total', 'hits', 'facets'],
  };
}

/** The OpenAPI 3.1 document of the query API. */
export function buildOpenApiDocument(
  options: Pick<ResolvedQueryOptions, 'contexts' | 'waitTimeoutMs'>,
): Json {
  const readParameters = [
    {
      name: 'Consistency-Token',
      in: 'header',
      required: false,
      description: 'The merged tokens of earlier answers: the read waits until the view covers it',
      schema: { type: 'string' },
    },
    {
      name: 'stale',
      in: 'query',
      required: false,
      description: 'ok: do not wait; an answer from a view that does not cover the token is marked stale',
      schema: { type: 'string', enum: ['ok'] },
    },
    {
      name: 'wait',
      in: 'query',
      required: false,
      description: `Wait at most this many ms (only lowers the server bound of ${options.waitTimeoutMs} ms)`,
      schema: { type: 'integer', minimum: 0, maximum: MAX_QUERY_WAIT_TIMEOUT_MS },
    },
  ];
  const queryParameter = (name: string, description: string, schema: Json) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  const schemas: Json = { Error: errorBodySchema() };
  const paths: Json = {};
  const documentRef = (view: ProjectionDefinition) => {
    const name = pascal(view.name);
    schemas[name] ??= documentSchema(view);
    return ref(name);
  };
  const responses = (scope: string, ok: Json, notFound?: string) => ({
    '200': {
      description: 'The answer, read from a view that covers the token (or marked stale)',
      headers: answerHeaders,
      content: { 'application/json': { schema: envelope(ok) } },
    },
    '400': error(
      'INVALID_ID, INVALID_QUERY_PARAMETER (details.parameter names it; also for a parameter the query does not take), TOKEN_MALFORMED, TOKEN_UNSUPPORTED_VERSION, TOKEN_FOREIGN, TOKEN_AHEAD_OF_LOG',
    ),
    '401': error('No or unknown API key'),
    '403': error(`The API key lacks the scope ${scope}`),
    ...(notFound
      ? { '404': error(`${notFound}: answered only by a view that covers the token`, answerHeaders) }
      : {}),
    '503': error(
      'CONSISTENCY_TIMEOUT (the view did not cover the token in time), VIEW_UNAVAILABLE, TOPIC_IDENTITY_UNAVAILABLE',
      retryAfter,
    ),
  });
  for (const context of options.contexts) {
    for (const query of context.queries) {
      const operation = operationOf(query, context.readScope);
      if (query.kind === 'document') {
        const path = query.path.replace(/:([A-Za-z0-9]+)/g, '{$1}');
        paths[path] = {
          get: {
            ...operation,
            parameters: [
              {
                name: query.param,
                in: 'path',
                required: true,
                schema: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
              },
              ...readParameters,
            ],
            responses: responses(context.readScope, documentRef(query.view), query.notFound),
          },
        };
        continue;
      }
      const resultName = `${pascal(query.view.name)}Result`;
      schemas[resultName] ??= searchResultSchema(query, documentRef(query.view));
      paths[query.path] = {
        get: {
          ...operation,
          parameters: [...readParameters, ...searchParameters(query, queryParameter)],
          responses: responses(context.readScope, ref(resultName)),
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tidemark query API',
      version: '1.0.0',
      description: `Reads of the views of ${options.contexts.map((c) => c.name).join(', ')} with read-your-writes: send the merged Consistency-Token of earlier answers. Every answer that is not a 200 is {error: {code, message, retryable, details?}}.`,
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      ...paths,
      '/healthz': {
        get: { operationId: 'health', security: [], responses: { '200': { description: 'Up' } } },
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
  };
}

function operationOf(query: NamedQuery, scope: string): Json {
  return {
    operationId: camel(`${query.context}-${query.name}`),
    tags: [query.context],
    summary: query.summary ?? `${query.name} (${query.view.name} view)`,
    description: `${query.description ? `${query.description} ` : ''}Needs the scope ${scope}.`,
  };
}

function searchParameters(
  query: SearchQuery,
  parameter: (name: string, description: string, schema: Json) => Json,
): Json[] {
  const out: Json[] = [];
  if (query.text) {
    out.push(
      parameter(query.text.param, `Full text over ${query.text.fields.join(', ')}`, {
        type: 'string',
        maxLength: query.text.maxLength,
      }),
    );
  }
  for (const [name, filter] of Object.entries(query.filters)) {
    switch (filter.kind) {
      case 'term':
        out.push(
          parameter(
            name,
            filter.description ??
              `Exact ${filter.field}${filter.normalizer ? ` (${filter.normalizer}: case does not matter)` : ''}`,
            { type: 'string', maxLength: MAX_FILTER_LENGTH },
          ),
        );
        break;
      case 'choice':
        out.push(
          parameter(
            name,
            filter.description ?? `${filter.field}${filter.any ? ` (${filter.any}: every one)` : ''}`,
            {
              type: 'string',
              enum: [...filter.values, ...(filter.any ? [filter.any] : [])],
              ...(filter.default !== undefined ? { default: filter.default } : {}),
            },
          ),
        );
        break;
      case 'range':
        out.push(
          parameter(
            name,
            filter.description ??
              `${filter.bound === 'gte' ? 'Lowest' : 'Highest'} ${filter.field} (inclusive)`,
            {
              type: 'integer',
              ...(filter.min !== undefined ? { minimum: filter.min } : {}),
              ...(filter.max !== undefined ? { maximum: filter.max } : {}),
            },
          ),
        );
        break;
    }
  }
  out.push(
    parameter('sort', `Order of the hits (ties by ${query.tieBreaker})`, {
      type: 'string',
      enum: Object.keys(query.sorts),
      default: query.defaultSort,
    }),
    parameter('from', `Offset of the page (from + size <= ${query.maxWindow})`, {
      type: 'integer',
      minimum: 0,
      default: 0,
    }),
    parameter('size', 'Hits per page', {
      type: 'integer',
      minimum: 1,
      maximum: query.size.max,
      default: query.size.default,
    }),
  );
  return out;
}

/** The document, built once at start. */
@Injectable()
export class OpenApiDocument {
  readonly document: Json;

  constructor(@Inject(QUERY_OPTIONS_RESOLVED) options: ResolvedQueryOptions) {
    this.document = buildOpenApiDocument(options);
  }
}
