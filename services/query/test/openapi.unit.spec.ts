/**
 * The OpenAPI 3.1 document the query API generates from the query definitions it serves (pure, no server): a
 * path per query with its parameters (the path parameter of a document query; the full-text parameter, every
 * filter with its type, enum and default, and sort/from/size of a search query; the read parameters of every
 * route), its scope and errors, and the documents' schemas taken from the projections' zod `document` schemas
 * (the documents the views hold conform to them).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listingQueries } from '@tidemark/listings-projections';
import { buildOpenApiDocument, MAX_QUERY_WAIT_TIMEOUT_MS, resolveOptions } from '../src';
import { MemoryBus, MemoryControl } from './support/fakes';
import { envelope, ListingsWorld, listingDefinition, publishedPayload } from './support/world';

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema: Json;
}

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  parameters: Parameter[];
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
}

const world = new ListingsWorld();
const document = buildOpenApiDocument(
  resolveOptions({
    apiKeys: [],
    contexts: [world.context()],
    control: new MemoryControl(),
    bus: new MemoryBus(),
    waitTimeoutMs: 1500,
  }),
) as {
  openapi: string;
  paths: Record<string, { get: Operation }>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
  security: unknown;
};

const operation = (path: string): Operation => {
  const found = document.paths[path]?.get;
  assert.ok(found, `no operation for ${path}`);
  return found;
};
const parameter = (path: string, name: string): Parameter => {
  const found = operation(path).parameters.find((p) => p.name === name);
  assert.ok(found, `${path} has no parameter ${name}`);
  return found;
};
const okSchema = (path: string) =>
  operation(path).responses['200']?.content?.['application/json']?.schema as {
    properties: { data: Json; token: Json };
    required: string[];
  };

/**
 * Whether a value conforms to a JSON schema of the subset zod emits for these documents (type, properties,
 * required, additionalProperties, enum, pattern, integer bounds): the OpenAPI document describes what is served.
 */
function conforms(value: unknown, schema: Json, where = '$'): void {
  if (Array.isArray(schema.enum))
    assert.ok(schema.enum.includes(value), `${where}: ${String(value)} not in enum`);
  switch (schema.type) {
    case 'string':
      assert.equal(typeof value, 'string', where);
      if (typeof schema.pattern === 'string')
        assert.match(value as string, new RegExp(schema.pattern), where);
      break;
    case 'integer':
      assert.ok(Number.isInteger(value), `${where}: ${String(value)} is not an integer`);
      break;
    case 'object': {
      assert.ok(
        typeof value === 'object' && value !== null && !Array.isArray(value),
        `${where}: not an object`,
      );
      const record = value as Json;
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      for (const name of (schema.required ?? []) as string[])
        assert.ok(name in record, `${where}.${name} missing`);
      for (const [name, field] of Object.entries(record)) {
        const declared = properties[name];
        if (declared) conforms(field, declared, `${where}.${name}`);
        else if (schema.additionalProperties === false) assert.fail(`${where}.${name} is not in the schema`);
        else if (typeof schema.additionalProperties === 'object')
          conforms(field, schema.additionalProperties as Json, `${where}.${name}`);
      }
      break;
    }
    default:
      assert.fail(`${where}: the checker does not know schema type ${String(schema.type)}`);
  }
}

describe('OpenAPI document generated from the query definitions', () => {
  test('a path per query (":param" as "{param}"), plus the system routes', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(Object.keys(document.paths).sort(), [
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/v1/listings/search',
      '/v1/listings/{id}',
      '/v1/listings/{id}/card',
      '/v1/sellers/{id}/stats',
    ]);
    assert.equal(listingQueries.list.length, 4);
    const ids = Object.values(document.paths).map((p) => p.get.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
    assert.equal(operation('/v1/listings/{id}').operationId, 'listingsListing');
    assert.equal(operation('/v1/sellers/{id}/stats').operationId, 'listingsSellerStats');
    assert.equal(operation('/v1/listings/{id}').summary, 'A listing (Postgres detail view)');
    for (const path of [
      '/v1/listings/{id}',
      '/v1/listings/{id}/card',
      '/v1/sellers/{id}/stats',
      '/v1/listings/search',
    ]) {
      const op = operation(path);
      assert.deepEqual(op.tags, ['listings'], path);
      assert.match(op.description, /queries:read:listings/, path);
      assert.match(op.responses['403']?.description ?? '', /queries:read:listings/, path);
      assert.ok(op.responses['401'] && op.responses['400'] && op.responses['503'], path);
      assert.match(op.responses['400']?.description ?? '', /INVALID_QUERY_PARAMETER/, path);
    }
    assert.deepEqual(document.security, [{ bearer: [] }, { apiKey: [] }]);
  });

  test('document routes: the path parameter (required, bounded) and the read parameters; 404 with its code', () => {
    for (const [path, notFound, schema] of [
      ['/v1/listings/{id}', 'LISTING_NOT_FOUND', 'ListingDetail'],
      ['/v1/listings/{id}/card', 'LISTING_NOT_FOUND', 'ListingCard'],
      ['/v1/sellers/{id}/stats', 'SELLER_NOT_FOUND', 'SellerStats'],
    ] as const) {
      const op = operation(path);
      assert.deepEqual(
        op.parameters.map((p) => [p.name, p.in]),
        [
          ['id', 'path'],
          ['Consistency-Token', 'header'],
          ['stale', 'query'],
          ['wait', 'query'],
        ],
        path,
      );
      assert.deepEqual(parameter(path, 'id'), {
        name: 'id',
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 1, maxLength: 200 },
      });
      assert.deepEqual(parameter(path, 'stale').schema, { type: 'string', enum: ['ok'] });
      assert.deepEqual(parameter(path, 'wait').schema, {
        type: 'integer',
        minimum: 0,
        maximum: MAX_QUERY_WAIT_TIMEOUT_MS,
      });
      assert.match(parameter(path, 'wait').description ?? '', /1500 ms/);
      assert.match(op.responses['404']?.description ?? '', new RegExp(notFound), path);
      assert.deepEqual(okSchema(path).properties.data, { $ref: `#/components/schemas/${schema}` }, path);
      assert.deepEqual(okSchema(path).required, ['data', 'token']);
    }
  });

  test('the search route: q, each filter with its type, enum and default, sort, from and size', () => {
    const path = '/v1/listings/search';
    const op = operation(path);
    assert.deepEqual(
      op.parameters.map((p) => p.name),
      [
        'Consistency-Token',
        'stale',
        'wait',
        'q',
        'category',
        'city',
        'country',
        'minPrice',
        'maxPrice',
        'status',
        'sort',
        'from',
        'size',
      ],
    );
    for (const p of op.parameters) {
      assert.equal(p.required, false, p.name);
      if (p.name !== 'Consistency-Token') assert.equal(p.in, 'query', p.name);
    }
    assert.deepEqual(parameter(path, 'q').schema, { type: 'string', maxLength: 200 });
    assert.match(parameter(path, 'q').description ?? '', /title\^3, description/);
    for (const name of ['category', 'city', 'country']) {
      assert.deepEqual(parameter(path, name).schema, { type: 'string', maxLength: 200 }, name);
      assert.match(parameter(path, name).description ?? '', /lowercase: case does not matter/, name);
    }
    assert.deepEqual(parameter(path, 'minPrice').schema, { type: 'integer', minimum: 0 });
    assert.match(parameter(path, 'minPrice').description ?? '', /Lowest priceCents/);
    assert.match(parameter(path, 'maxPrice').description ?? '', /Highest priceCents/);
    assert.deepEqual(parameter(path, 'status').schema, {
      type: 'string',
      enum: ['active', 'withdrawn', 'sold', 'any'],
      default: 'active',
    });
    assert.deepEqual(parameter(path, 'sort').schema, {
      type: 'string',
      enum: ['relevance', 'price_asc', 'price_desc', 'newest'],
      default: 'relevance',
    });
    assert.deepEqual(parameter(path, 'from').schema, { type: 'integer', minimum: 0, default: 0 });
    assert.deepEqual(parameter(path, 'size').schema, {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 20,
    });
    assert.equal(op.responses['404'], undefined, 'a search has no 404');
    assert.deepEqual(okSchema(path).properties.data, { $ref: '#/components/schemas/ListingSearchResult' });
    const result = document.components.schemas.ListingSearchResult as {
      properties: {
        hits: { items: { properties: Json; required: string[] } };
        facets: { properties: Json; required: string[] };
      };
    };
    assert.deepEqual(result.properties.hits.items.properties.listing, {
      $ref: '#/components/schemas/ListingSearch',
    });
    assert.deepEqual(result.properties.hits.items.required, ['id', 'score', 'listing']);
    assert.deepEqual(Object.keys(result.properties.facets.properties), ['category']);
    assert.deepEqual(result.properties.facets.required, ['category']);
  });

  test("the documents' schemas come from the projections' zod document schemas", () => {
    const { schemas } = document.components;
    assert.deepEqual(Object.keys(schemas).sort(), [
      'Error',
      'ListingCard',
      'ListingDetail',
      'ListingSearch',
      'ListingSearchResult',
      'SellerStats',
    ]);
    const detail = schemas.ListingDetail as {
      properties: Record<string, Json>;
      required: string[];
      $schema?: string;
    };
    assert.equal(detail.$schema, undefined, 'embedded schemas carry no $schema');
    assert.deepEqual(detail.properties.status, { type: 'string', enum: ['active', 'withdrawn', 'sold'] });
    assert.equal(detail.properties.version?.description, 'Aggregate version of the last event applied');
    assert.equal((detail.properties.location as { type: string }).type, 'object');
    assert.ok(detail.required.includes('location'));
    assert.ok(!detail.required.includes('soldPriceCents'), 'optional fields are not required');
    const stats = schemas.SellerStats as { properties: Record<string, Json> };
    assert.equal(stats.properties.askingValueCents?.type, 'object');
    assert.equal(
      stats.properties.askingValueCents?.description,
      'Total asking price of the active listings per currency',
    );
    assert.deepEqual(Object.keys((schemas.ListingSearch as { properties: Json }).properties).sort(), [
      'category',
      'city',
      'country',
      'currency',
      'description',
      'id',
      'postalCode',
      'priceCents',
      'publishedAt',
      'sellerId',
      'status',
      'title',
      'updatedAt',
      'version',
    ]);
  });

  test('the documents the views hold conform to their schemas (and a wrong one does not)', () => {
    const published = envelope('l-1', 1, 'ListingPublished', publishedPayload('s-1', 1200));
    const sold = envelope('l-1', 2, 'ListingSold', {
      sellerId: 's-1',
      buyerId: 'b-1',
      priceCents: 1100,
      askingPriceCents: 1200,
      currency: 'EUR',
    });
    // Folded by the projections as the projectors run them (events read through the context's registry).
    const fold = (projection: string, key: string) => {
      const definition = listingDefinition(projection, 1);
      const once = definition.apply(null, published, key);
      return definition.eventTypes.includes(sold.type) ? definition.apply(once, sold, key) : once;
    };
    const detail = fold('listing-detail', 'l-1');
    const card = fold('listing-card', 'l-1');
    const stats = fold('seller-stats', 's-1');
    assert.equal(detail?.status, 'sold');
    assert.equal(detail?.soldPriceCents, 1100, 'the optional fields are filled in');
    const { schemas } = document.components;
    conforms(detail, schemas.ListingDetail as Json);
    conforms(card, schemas.ListingCard as Json);
    conforms(stats, schemas.SellerStats as Json);
    assert.throws(() => conforms({ ...detail, status: 'deleted' }, schemas.ListingDetail as Json));
    assert.throws(() => conforms({ ...card, extra: 1 }, schemas.ListingCard as Json));
    assert.throws(() => conforms({ ...stats, askingValueCents: { EUR: 'x' } }, schemas.SellerStats as Json));
  });
});
