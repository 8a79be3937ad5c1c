/**
 * API-key authentication of every Tidemark HTTP service: the key a request presents (`Authorization: Bearer` or
 * `X-Api-Key`), found by comparing sha256 digests of every key's secret in constant time, and one guard that
 * answers 401 UNAUTHENTICATED (WWW-Authenticate) without a known key and 403 FORBIDDEN (details.requiredScope)
 * when the key's scopes (scopes.ts) do not allow the scope the route requires (@RequireScope). Guards run before
 * pipes and handlers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TidemarkError } from '@tidemark/schemas';
import type { HttpServiceConfig } from './config';
import { HTTP_SERVICE_CONFIG } from './config';
import { scopesAllow } from './scopes';

/** An API key: presented as `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. */
export interface ApiKey {
  /** Who the key is: the principal of commands, the actor of audit entries, the request log's principal. */
  id: string;
  secret: string;
  /** Granted scopes (scopes.ts): `commands:write:<context>`, `queries:read:*`, `admin`, `*`, ... */
  scopes: string[];
}

/** The parts of a request (Fastify's or express's) the guard reads and sets. */
export interface AuthenticatedRequest {
  headers: IncomingHttpHeaders;
  params?: Record<string, string | undefined>;
  /** Set by the guard: the key the request presented. */
  principal?: ApiKey;
}

/** The scope a route requires: fixed, or from the request (e.g. its `:context` route parameter). */
export type RequiredScope = string | ((request: AuthenticatedRequest) => string);

/** Route metadata: the scope ScopeGuard checks. */
export const REQUIRED_SCOPE = 'tidemark:required-scope';

/** Marks a route (or every route of a controller) as needing a scope; ScopeGuard checks it. */
export const RequireScope = (scope: RequiredScope) => SetMetadata(REQUIRED_SCOPE, scope);

/** A single-valued header (the first one when repeated), or undefined. */
export function header(request: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/** Finds the API key a request presents; compares every key's secret in constant time. */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly keys: { key: ApiKey; digest: Buffer }[];

  constructor(@Inject(HTTP_SERVICE_CONFIG) config: Pick<HttpServiceConfig, 'apiKeys'>) {
    this.keys = config.apiKeys.map((key) => ({ key, digest: digest(key.secret) }));
  }

  /** The presented secret: `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. */
  presented(request: { headers: IncomingHttpHeaders }): string | undefined {
    const authorization = header(request, 'authorization');
    if (authorization) return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
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

  /** Whether the key's scopes allow the required scope (`*`, equal, or a last `*` segment matching the rest). */
  static allows(key: Pick<ApiKey, 'scopes'>, scope: string): boolean {
    return scopesAllow(key.scopes, scope);
  }
}

/** 401: no key, or one that is not known. */
export function unauthenticated(presented: boolean): TidemarkError {
  return new TidemarkError(
    'UNAUTHENTICATED',
    presented
      ? 'the API key is not valid'
      : 'an API key is required (Authorization: Bearer <key> or X-Api-Key)',
    401,
    false,
    undefined,
    { 'WWW-Authenticate': 'Bearer realm="tidemark"' },
  );
}

/** 403: the key lacks the scope. */
export function forbidden(scope: string): TidemarkError {
  return new TidemarkError('FORBIDDEN', `the API key lacks the scope '${scope}'`, 403, false, {
    requiredScope: scope,
  });
}

/**
 * The one guard: for a route with a required scope (on the handler, else on the controller), 401 without a known
 * key, 403 when the key's scopes do not allow it; the key becomes the request's principal. A route without one
 * is open (health, metrics, OpenAPI).
 */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyAuthenticator) private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<RequiredScope | undefined>(REQUIRED_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required === undefined) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = this.authenticator.presented(request);
    const key = this.authenticator.authenticate(presented);
    if (!key) throw unauthenticated(presented !== undefined);
    request.principal = key;
    const scope = typeof required === 'function' ? required(request) : required;
    if (!ApiKeyAuthenticator.allows(key, scope)) throw forbidden(scope);
    return true;
  }
}
