import type { ContextExample } from '@tidemark/sdk';
import { type Component, createLogger, ensureSystemPackages } from '@tidemark/stack';
import { deploymentOf } from '../config/deployment-settings';
import type { HostedDeployment } from '../deployment';
import type { Platform } from '../platform';
import { startPlatform } from '../platform';
import { formatTable, parseUpArgs, UP_HELP, type UpTableRow, UpUsageError } from './up-args';
import { UsageError } from './usage-error';

/** Debian packages each component needs on the machine (the broker and PostgreSQL come from npm). */
const SYSTEM_PACKAGES: Partial<Record<Component, string>> = {
  redis: 'redis-server',
  memcached: 'memcached',
};

/**
 * `tidemark up`: starts the local stack in the foreground, writes <data-dir>/endpoints.json, prints what runs
 * where, and on SIGINT/SIGTERM stops everything and exits 0. A component that dies meanwhile stops the rest and
 * exits 1.
 */
export async function runUp(argv: string[]): Promise<void> {
  let args: ReturnType<typeof parseUpArgs>;
  try {
    args = parseUpArgs(argv, process.cwd());
  } catch (error) {
    if (error instanceof UpUsageError) throw new UsageError(`${error.message}\n\n${UP_HELP}`);
    throw error;
  }
  if (args.help) {
    process.stdout.write(UP_HELP);
    return;
  }

  const deployment = await deploymentOf({ config: args.config });
  const logger = createLogger('tidemark.up');
  const packages = args.components.flatMap((c) => SYSTEM_PACKAGES[c] ?? []);
  await ensureSystemPackages(packages, { logger });

  // Signals that arrive while starting must not leave half a stack behind.
  let stopRequested: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested !== undefined) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopRequested = signal;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let crashed: Error | undefined;
  let platform: Platform;
  try {
    platform = await startPlatform({
      deployment,
      dataDir: args.dataDir,
      components: args.components,
      ports: { ...args.ports, gateway: args.gatewayPort, query: args.queryPort, admin: args.adminPort },
      partitions: args.partitions,
      metricsPort: args.metricsPort,
      brokerMode: args.brokerMode,
      processorMode: args.processorMode,
      readPath: args.projectorMode === 'off' ? { projectors: false } : { projectorMode: args.projectorMode },
      catalogModule: args.catalog,
      writeEndpoints: true,
      handleSignals: false,
      logger,
      onComponentExit: (component, error) => {
        crashed ??= new Error(`${component} stopped unexpectedly: ${error.message}`);
        wake?.();
      },
    });
  } catch (error) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw error;
  }

  const stack = platform.stack;
  if (stopRequested === undefined) {
    const rows: UpTableRow[] = args.components.map((name) => {
      const info = stack.components[name];
      return {
        component: name,
        endpoint: info?.endpoint ?? '-',
        pid: info?.pid !== undefined ? String(info.pid) : 'in-process',
        version: info?.version ?? '',
        note: info?.detail ?? '',
      };
    });
    if (stack.endpoints.metrics) {
      rows.push({
        component: 'metrics',
        endpoint: stack.endpoints.metrics,
        pid: '',
        version: '',
        note: 'broker',
      });
    }
    rows.push({
      component: 'gateway',
      endpoint: platform.gateway.url,
      pid: 'in-process',
      version: '',
      note: 'commands',
    });
    for (const child of platform.processorChildren) {
      rows.push({
        component: 'processor',
        endpoint: child.metricsUrl ?? '-',
        pid: String(child.pid ?? 'child'),
        version: '',
        note: `group ${child.context}.processor, ${args.partitions} partitions`,
      });
    }
    for (const processor of platform.processors) {
      rows.push({
        component: 'processor',
        endpoint: platform.processorMetrics.get(processor) ?? '-',
        pid: 'in-process',
        version: '',
        note: `group ${processor.consumerGroup}, ${processor.partitionCount} partitions`,
      });
    }
    for (const projector of platform.projectors?.projectors ?? []) {
      const { definition } = projector;
      rows.push({
        component: 'projector',
        endpoint: '-',
        pid: 'in-process',
        version: `v${definition.version}`,
        note: `${definition.context}.${definition.name} -> ${definition.store}`,
      });
    }
    if (args.projectorMode === 'child') {
      rows.push({
        component: 'projector',
        endpoint: '-',
        pid: 'child',
        version: '',
        note: 'every projection',
      });
    }
    if (platform.projectorMetrics) {
      rows.push({
        component: 'metrics',
        endpoint: platform.projectorMetrics,
        pid: '',
        version: '',
        note: 'projectors',
      });
    }
    if (platform.query) {
      rows.push({
        component: 'query',
        endpoint: platform.query.url,
        pid: 'in-process',
        version: '',
        note: 'reads',
      });
    }
    if (platform.admin) {
      rows.push({
        component: 'admin',
        endpoint: platform.admin.url,
        pid: 'in-process',
        version: '',
        note: 'operator actions (scope admin)',
      });
    }
    process.stdout.write(
      `\nTidemark is up (data dir ${args.dataDir})\n\n${formatTable(rows)}\n\n` +
        `endpoints: ${stack.endpointsFile ?? '-'} (development API key inside)\n\n` +
        examples(deployment, platform.gateway.url, platform.query?.url, platform.apiKey) +
        (platform.admin ? adminExample(platform.admin.url, platform.apiKey, stack.endpointsFile) : '') +
        'Press Ctrl-C to stop.\n',
    );
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (crashed !== undefined) resolve();
    });
  }

  logger.info({ signal: stopRequested, crashed: crashed?.message }, 'stopping stack');
  try {
    await platform.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (crashed !== undefined) throw crashed;
  process.stdout.write('Tidemark stack stopped.\n');
  process.exitCode = 0;
  // Should anything (a stray handle in a component) keep the event loop alive, still exit.
  setTimeout(() => process.exit(0), 3000).unref();
}

/** How to reach the operator actions: the CLI with endpoints.json, or the admin API. */
function adminExample(admin: string, apiKey: string, endpointsFile: string | undefined): string {
  return (
    'Operate projections (replay, diff, cutover, rollback, retire):\n' +
    `  npx tidemark projections list${endpointsFile ? ` --endpoints ${endpointsFile}` : ''}\n` +
    `  curl -s ${admin}/v1/admin/projections -H 'Authorization: Bearer ${apiKey}'\n\n`
  );
}

/** The deployment's copy-paste examples: per context, a command, then reads of its views with its token. */
function examples(deployment: HostedDeployment, gateway: string, query: string | undefined, apiKey: string) {
  const shown = deployment.deployment.contexts.flatMap(({ context, example }) =>
    example ? [exampleCommands(context.name, example, gateway, query, apiKey)] : [],
  );
  return shown.length === 0 ? '' : `Try it:\n${shown.join('')}`;
}

/** One context's example: a command, then reading its views with the command's token. */
function exampleCommands(
  context: string,
  example: ContextExample,
  gateway: string,
  query: string | undefined,
  apiKey: string,
): string {
  const commandId = `example-${context}-1`;
  const commands = `${gateway}/v1/contexts/${context}/commands`;
  const auth = `-H 'Authorization: Bearer ${apiKey}'`;
  return (
    `  # ${context}\n` +
    `  curl -si -X POST ${commands} \\\n` +
    `    ${auth} -H 'Content-Type: application/json' -H 'Idempotency-Key: ${commandId}' \\\n` +
    `    -d '${JSON.stringify(example.command)}'\n` +
    `  curl -s ${commands}/${commandId} ${auth}\n` +
    (query && example.reads.length > 0
      ? `  # then read it with the command's token (the read waits until the view has the write):\n` +
        `  TOKEN=$(curl -s ${commands}/${commandId} ${auth} | sed -E 's/.*"token":"([^"]*)".*/\\1/')\n` +
        example.reads
          .map(
            (read) =>
              `  curl -s${read === example.reads[0] ? 'i' : ''} '${query}${read}' ${auth} -H "Consistency-Token: $TOKEN"\n`,
          )
          .join('') +
        '\n'
      : `  (the answer's Consistency-Token header is what a read sends back to see its own write)\n\n`)
  );
}
