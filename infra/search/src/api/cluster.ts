/** Endpoints clients probe: `GET /` (product and version) and `GET /_cluster/health`. */
import type { SearchEngine } from '../engine/engine';
import type { Route } from '../http/router';

export const ES_VERSION = '9.0.0';

export function clusterRoutes(engine: SearchEngine, clusterName: string): Route[] {
  const info = () => ({
    status: 200,
    body: {
      name: 'tidemark-search',
      cluster_name: clusterName,
      cluster_uuid: 'tidemark-search-embedded',
      version: {
        number: ES_VERSION,
        build_flavor: 'default',
        build_type: 'tidemark',
        build_hash: 'tidemark',
        build_date: '2025-04-01T00:00:00.000Z',
        build_snapshot: false,
        lucene_version: '10.1.0',
        minimum_wire_compatibility_version: '8.18.0',
        minimum_index_compatibility_version: '8.0.0',
      },
      tagline: 'You Know, for Search',
    },
  });
  const health = () => {
    const shards = engine.listIndices().length;
    return {
      status: 200,
      body: {
        cluster_name: clusterName,
        status: 'green',
        timed_out: false,
        number_of_nodes: 1,
        number_of_data_nodes: 1,
        active_primary_shards: shards,
        active_shards: shards,
        relocating_shards: 0,
        initializing_shards: 0,
        unassigned_shards: 0,
        unassigned_primary_shards: 0,
        delayed_unassigned_shards: 0,
        number_of_pending_tasks: 0,
        number_of_in_flight_fetch: 0,
        task_max_waiting_in_queue_millis: 0,
        active_shards_percent_as_number: 100,
      },
    };
  };
  const healthParams = [
    'wait_for_status',
    'wait_for_nodes',
    'wait_for_no_relocating_shards',
    'wait_for_no_initializing_shards',
    'wait_for_active_shards',
    'wait_for_events',
    'level',
    'local',
  ];
  return [
    { methods: ['GET'], pattern: '/', endpoint: 'info', queryParams: [], handler: info },
    { methods: ['HEAD'], pattern: '/', endpoint: 'ping', queryParams: [], handler: () => ({ status: 200 }) },
    {
      methods: ['GET'],
      pattern: '/_cluster/health',
      endpoint: 'cluster.health',
      queryParams: healthParams,
      handler: health,
    },
    {
      methods: ['GET'],
      pattern: '/_cluster/health/{index}',
      endpoint: 'cluster.health',
      queryParams: healthParams,
      handler: health,
    },
  ];
}
