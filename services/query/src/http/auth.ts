import { createHash, timingSafeEqual } from 'node:crypto';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { Reflector } from '@nestjs/core';
import { QueryError } from '../errors';
import type { ApiKey, ResolvedQueryOptions } from '../options';
import { QUERY_OPTIONS_RESOLVED } from '../tokens';
import type { QueryRequest } from './request';
import { header } from './request';

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/** Finds the API key a request presents; compares every key's secret in constant time (as the gateway does). */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly keys: { key: ApiKey; digest: Buffer }[];

  constructor(@Inject(QUERY_OPTIONS_RESOLVED) options: ResolvedQueryOptions) {
    this.keys = options.apiKeys.map((key) => ({ key, digest: digest(key.secret) }));
  }

  /** The presented secret: `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. */
  presented(request: QueryRequest): string | undefined {
    const authorization = header(request, 'authorization');
    if (authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      return match?.[1];
    }
    const apiKey = header(request, 'x-api-key')?.trim();
    return apiKey || undefined;
  }

  authenticate(secret: string | undefined): ApiKey | undefined {
    if (secret === undefined) return undefined;
    const presented = digest(secret);
    let found: ApiKey | undefined;
    // No early exit: the time taken does not depend on which key (if any) matched.
    for (const entry of this.keys) {
      if (timingSafeEqual(entry.digest, presented) && !found) found = entry.key;
    }
    return found;
  }

  /** `*` allows everything, `queries:read:*` every context's reads. */
  static allows(key: ApiKey, scope: string): boolean {
    const wildcard = `${scope.slice(0, scope.lastIndexOf(':') + 1)}*`;
    return key.scopes.includes('*') || key.scopes.includes(scope) || key.scopes.includes(wildcard);
  }
}

/** Route metadata: the scope a read route needs (`queries:read:<context>`). */
export const READ_SCOPE = 'tidemark:read-scope';

/** 401 without a known key, 403 when the key lacks the route's `queries:read:<context>`. */
@Injectable()
export class ReadScopeGuard implements CanActivate {
  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.get<string | undefined>(READ_SCOPE, context.getHandler());
    if (scope === undefined) return true;
    const request = context.switchToHttp().getRequest<QueryRequest>();
    const presented = this.authenticator.presented(request);
    const key = this.authenticator.authenticate(presented);
    if (!key) {
      throw new QueryError(
        'UNAUTHENTICATED',
        presented === undefined
          ? 'an API key is required (Authorization: Bearer <key> or X-Api-Key)'
          : 'the API key is not valid',
        401,
        false,
        undefined,
        { 'WWW-Authenticate': 'Bearer realm="tidemark"' },
      );
    }
    request.principal = key;
    if (!ApiKeyAuthenticator.allows(key, scope)) {
      throw new QueryError('FORBIDDEN', `the API key lacks the scope '${scope}'`, 403, false, {
        requiredScope: scope,
      });
    }
    return true;
  }
}
