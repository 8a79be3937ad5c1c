import { parseArgs } from 'node:util';
import { startSearchServer } from '@tidemark/search';
import { intOption, parseOrHelp, runUntilSignalled } from './args';
import { UsageError } from './usage-error';

const HELP = `tidemark search-server: run the embedded Elasticsearch-compatible search server

Speaks the subset of the Elasticsearch REST API the platform uses (the official @elastic/elasticsearch client
works against it): indices with explicit mappings, documents with external versions, _bulk, near-real-time
refresh, atomic aliases, _search/_count. Meant for local use and tests; see infra/search/README.md for the
supported surface. Acknowledged writes are fsynced; data under --data-dir survives restarts.

Usage: tidemark search-server [options]

Options:
  --port <n>                 HTTP port (default 9200; 0 picks a free port)
  --host <addr>              Listen address (default 127.0.0.1)
  --data-dir <dir>           Where indices, logs and snapshots live (default .tidemark/search)
  --refresh-interval-ms <n>  Periodic refresh making writes searchable (default 1000, like ES; 0 disables:
                             then only _refresh, refresh=true and refresh=wait_for make writes searchable)
  --metrics-port <n>         Separate Prometheus /metrics and /healthz port (default: none, -1; 0 picks one);
                             metrics are always on GET /_prometheus/metrics of the main port
  --log-level <level>        debug, info, warn or error (default info, or TIDEMARK_LOG_LEVEL)
  -h, --help                 Show this text

Prints one line "search-server ready <url>" on stdout when it accepts requests; SIGINT or SIGTERM stops it
cleanly (in-flight writes finish, indices are snapshotted).
`;

export async function runSearchServerCommand(argv: string[]): Promise<void> {
  const values = parseOrHelp(() => parse(argv), HELP);
  if (values === null) return;
  const metricsPort = intOption('metrics-port', values['metrics-port'], -1) ?? -1;
  const level = values['log-level'];
  if (level !== undefined && !['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level))
    throw new UsageError(`--log-level must be debug, info, warn or error (got '${level}')\n\n${HELP}`);
  const server = await startSearchServer({
    dataDir: values['data-dir'] ?? '.tidemark/search',
    host: values.host ?? '127.0.0.1',
    port: intOption('port', values.port) ?? 9200,
    refreshIntervalMs: intOption('refresh-interval-ms', values['refresh-interval-ms']) ?? 1000,
    metricsPort: metricsPort === -1 ? null : metricsPort,
    ...(level === undefined ? {} : { logLevel: level }),
  });
  process.stdout.write(
    `search-server ready ${server.url}${server.metricsUrl ? ` metrics ${server.metricsUrl}` : ''}\n`,
  );
  await runUntilSignalled('search-server', () => server.close());
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'refresh-interval-ms': { type: 'string' },
      'metrics-port': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
