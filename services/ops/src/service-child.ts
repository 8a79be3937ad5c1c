/**
 * A long-running `tidemark <service>` command as a managed child process of `tidemark up`, as a deployment runs
 * it (docker-compose): its own event loop, its JSON logs passed through, stopped with SIGTERM.
 */
import path from 'node:path';
import { spawnManaged } from '@tidemark/stack';
import type { Logger } from 'pino';

/**
 * Node flags of a projector process. A catch-up allocates a few objects per event (kafkajs records, parsed
 * envelopes, documents): with the young generation at 64 MB instead of 16, far fewer of them survive into a
 * scavenge, which made catch-up ~15% faster in the read-path benchmark. Its minimum is the same 64 MB: a young
 * generation that starts small and grows (and shrinks when idle) commits fresh pages, each a page fault.
 */
export const PROJECTOR_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=64',
];

/**
 * glibc malloc settings of a projector process (read by the dynamic loader, so they must be in the environment
 * the process starts with). Each fetch response is one buffer of up to 64 MB (kafkajs joins the socket's chunks),
 * which malloc maps fresh every time, and V8's old space grows and shrinks with every batch: ~400,000 page
 * faults per million events, each expensive on a virtual machine. Transparent huge pages (where the kernel allows
 * them on request) fault 2 MB at a time, and a high trim threshold keeps freed heap memory for the next batch
 * instead of handing it back. Together with the fixed young generation: page faults -40%, catch-up +10% in the
 * medians of paired runs (BENCHMARKS.md, read path). The cost is resident memory (up to ~512 MB kept).
 */
export const PROJECTOR_GLIBC_TUNABLES =
  'glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=536870912:glibc.malloc.top_pad=67108864';

/** The environment of a projector process: ours, plus the malloc settings unless the operator set their own. */
export function projectorEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return base.GLIBC_TUNABLES === undefined
    ? { ...base, GLIBC_TUNABLES: PROJECTOR_GLIBC_TUNABLES }
    : { ...base };
}

/** What `tidemark <service> ...args` is started with as a child process. */
export interface ServiceChildCommand {
  service: 'processor' | 'projector';
  args: string[];
  /** Flags for node itself, before the CLI path. */
  nodeFlags?: readonly string[];
  /** The child's environment (default: ours). */
  env?: NodeJS.ProcessEnv;
}

/** The path of the `tidemark` CLI that children run. */
const CLI = path.resolve(__dirname, '../../bin/tidemark.js');

/** The child's argv after the node binary: node's own flags, then the CLI, the service and its arguments. */
export function serviceChildArgv(
  command: Pick<ServiceChildCommand, 'service' | 'args' | 'nodeFlags'>,
): string[] {
  return [...(command.nodeFlags ?? []), CLI, command.service, ...command.args];
}

/** `tidemark projector ...args` as a child: with the projector's node flags and malloc settings. */
export function projectorChildCommand(
  args: string[],
  base: NodeJS.ProcessEnv = process.env,
): ServiceChildCommand {
  return { service: 'projector', args, nodeFlags: PROJECTOR_NODE_FLAGS, env: projectorEnv(base) };
}

export interface ServiceChild {
  pid: number | undefined;
  /** The child's Prometheus endpoint, from its ready line. */
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/** Starts `tidemark <service> ...args` and resolves once it printed "<service> ready ...". */
export async function startServiceChild(
  options: ServiceChildCommand & {
    logger: Logger;
    startTimeoutMs?: number;
  },
): Promise<ServiceChild> {
  const { service } = options;
  let metricsUrl: string | undefined;
  let ready: (() => void) | undefined;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const readyLine = new RegExp(`^${service} ready \\S+(?: metrics (\\S+))?`);
  const child = spawnManaged({
    name: service,
    command: process.execPath,
    args: serviceChildArgv(options),
    ...(options.env ? { env: options.env } : {}),
    logger: options.logger,
    stopSignal: 'SIGTERM',
    stopGraceMs: 15_000,
    // The service writes JSON logs itself: pass them through.
    output: 'stderr',
    onStdoutLine: (line) => {
      const match = readyLine.exec(line);
      if (match) {
        metricsUrl = match[1];
        ready?.();
      }
    },
  });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      isReady,
      child.exited.then((exit) => {
        throw new Error(`the ${service} process exited before it was ready (${JSON.stringify(exit)})`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the ${service} process was not ready within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    await child.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: child.pid,
    metricsUrl,
    stop: async () => {
      await child.stop();
    },
  };
}
