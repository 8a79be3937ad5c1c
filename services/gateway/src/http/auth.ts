import { createHash, timingSafeEqual } from 'node:crypto';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Inject, Injectable, SetMetadata } from '@nestjs/common';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { Reflector } from '@nestjs/core';
import type { ApiKey, ResolvedGatewayOptions } from '../options';
import { GATEWAY_OPTIONS_RESOLVED } from '../tokens';
import { GatewayError } from './errors';
import type { GatewayRequest } from './request';
import { header } from './request';

export type ScopeAction = 'commands:write' | 'commands:read';
const SCOPE_ACTION = 'tidemark:scope-action';

/** Marks a route as needing `<action>:<context>` (the :context route parameter) or `*`. */
export const RequireScope = (action: ScopeAction) => SetMetadata(SCOPE_ACTION, action);

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/** Finds the API key a request presents; compares every key's secret in constant time. */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly keys: { key: ApiKey; digest: Buffer }[];

  constructor(@Inject(GATEWAY_OPTIONS_RESOLVED) options: ResolvedGatewayOptions) {
    this.keys = options.apiKeys.map((key) => ({ key, digest: digest(key.secret) }));
  }

  /** The presented secret: `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. */
  presented(request: GatewayRequest): string | undefined {
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

  static allows(key: ApiKey, scope: string): boolean {
    return key.scopes.includes('*') || key.scopes.includes(scope);
  }
}

/** 401 without a known key, 403 when the key lacks the route's scope for the context. */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const action = this.reflector.get<ScopeAction | undefined>(SCOPE_ACTION, context.getHandler());
    if (!action) return true;
    const request = context.switchToHttp().getRequest<GatewayRequest>();
    const presented = this.authenticator.presented(request);
    const key = this.authenticator.authenticate(presented);
    if (!key) {
      throw new GatewayError(
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
    const scope = `${action}:${request.params.context ?? ''}`;
    if (!ApiKeyAuthenticator.allows(key, scope)) {
      throw new GatewayError('FORBIDDEN', `the API key lacks the scope '${scope}'`, 403, false, {
        requiredScope: scope,
      });
    }
    return true;
  }
}
