/** Request ids, the request metric and one log line per request of the query API (infra/observability). */
import type { RequestObserverOptions, RouteTable } from '@tidemark/observability/http';
import type { NamedQuery } from '@tidemark/sdk';
import type { Logger } from 'pino';
import type { QueryMetrics } from '../metrics';

const SYSTEM: RouteTable = [
  [/^\/healthz\/?$/, '/healthz'],
  [/^\/metrics\/?$/, '/metrics'],
  [/^\/openapi\.json$/, '/openapi.json'],
];

/** A route template as the pattern of the paths it matches (`:param` is one segment). */
function pattern(path: string): RegExp {
  const segments = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}/?$`);
}

export function requestObserverOptions(
  queries: readonly NamedQuery[],
  metrics: QueryMetrics,
  logger: Logger,
): RequestObserverOptions {
  // Static routes first: a /search route is not an /:id route.
  const ordered = [...queries].sort((a, b) => a.path.split(':').length - b.path.split(':').length);
  return {
    routes: [...ordered.map((query): [RegExp, string] => [pattern(query.path), query.path]), ...SYSTEM],
    logger,
    observe: (labels, seconds) => metrics.requestSeconds.observe(labels, seconds),
  };
}
