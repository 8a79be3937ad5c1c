import { createHash, timingSafeEqual } from 'node:crypto';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { AdminError } from './errors';
import type { AdminApiKey, ResolvedAdminOptions } from './options';
import { ADMIN_SCOPE } from './options';
import type { AdminRequest } from './request';
import { header } from './request';
import { ADMIN_OPTIONS_RESOLVED } from './tokens';

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/** Finds the API key a request presents; compares every key's secret in constant time (as the gateway does). */
@Injectable()
export class AdminAuthenticator {
  private readonly keys: { key: AdminApiKey; digest: Buffer }[];

  constructor(@Inject(ADMIN_OPTIONS_RESOLVED) options: ResolvedAdminOptions) {
    this.keys = options.apiKeys.map((key) => ({ key, digest: digest(key.secret) }));
  }

  /** The presented secret: `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. */
  presented(request: AdminRequest): string | undefined {
    const authorization = header(request, 'authorization');
    if (authorization) return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    const apiKey = header(request, 'x-api-key')?.trim();
    return apiKey || undefined;
  }

  authenticate(secret: string | undefined): AdminApiKey | undefined {
    if (secret === undefined) return undefined;
    const presented = digest(secret);
    let found: AdminApiKey | undefined;
    // No early exit: the time taken does not depend on which key (if any) matched.
    for (const entry of this.keys) {
      if (timingSafeEqual(entry.digest, presented) && !found) found = entry.key;
    }
    return found;
  }

  static allows(key: AdminApiKey): boolean {
    return key.scopes.includes('*') || key.scopes.includes(ADMIN_SCOPE);
  }
}

/** 401 without a known key, 403 when the key has neither `admin` nor `*`. */
@Injectable()
export class AdminScopeGuard implements CanActivate {
  constructor(private readonly authenticator: AdminAuthenticator) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const presented = this.authenticator.presented(request);
    const key = this.authenticator.authenticate(presented);
    if (!key) {
      throw new AdminError(
        'UNAUTHENTICATED',
        presented === undefined
          ? 'an API key is required (Authorization: Bearer <key> or X-Api-Key)'
          : 'the API key is not valid',
        401,
        undefined,
        { 'WWW-Authenticate': 'Bearer realm="tidemark"' },
      );
    }
    request.principal = key;
    if (!AdminAuthenticator.allows(key)) {
      throw new AdminError('FORBIDDEN', `the API key lacks the scope '${ADMIN_SCOPE}'`, 403, {
        requiredScope: ADMIN_SCOPE,
      });
    }
    return true;
  }
}
