/**
 * What every HTTP service's OpenAPI document says the same way: the one error body, its responses, the API-key
 * security schemes.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

/** The body of every answer that is not a 2xx (TidemarkError as JSON). */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('Stable error code, e.g. VERSION_CONFLICT'),
    message: z.string(),
    retryable: z.boolean().describe('Whether retrying the same request can succeed'),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** ErrorBody as a JSON Schema, for `components.schemas.Error`. */
export function errorBodySchema(): Json {
  const { $schema: _, ...schema } = z.toJSONSchema(ErrorBody, { io: 'output' }) as Json;
  return schema;
}

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A response with the error body (and optional headers, e.g. Retry-After). */
export const errorResponse = (description: string, headers?: Json) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: schemaRef('Error') } },
});

/** `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export const API_KEY_SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
};
