import {
  type Component,
  createLogger,
  ensureSystemPackages,
  formatTable,
  parseUpArgs,
  type Stack,
  startStack,
  UP_HELP,
  type UpTableRow,
  UpUsageError,
} from '@tidemark/stack';
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
  let stack: Stack;
  try {
    stack = await startStack({
      dataDir: args.dataDir,
      components: args.components,
      ports: args.ports,
      metricsPort: args.metricsPort,
      brokerMode: args.brokerMode,
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
    process.stdout.write(
      `\nTidemark stack is up (data dir ${args.dataDir})\n\n${formatTable(rows)}\n\n` +
        `endpoints: ${stack.endpointsFile ?? '-'}\nPress Ctrl-C to stop.\n`,
    );
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (crashed !== undefined) resolve();
    });
  }

  logger.info({ signal: stopRequested, crashed: crashed?.message }, 'stopping stack');
  try {
    await stack.stop();
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
