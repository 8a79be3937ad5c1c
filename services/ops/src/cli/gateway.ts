import { KafkaCommandTransport, startGateway } from '@tidemark/gateway';
import { createLogger } from '@tidemark/observability';
import { deploymentOf, selectedContexts } from '../config/deployment-settings';
import { parseServiceArgs, renderOptions } from '../config/flags';
import { runUntilSignalled } from './args';

const HELP = `tidemark gateway: run the command gateway (HTTP) of one or more contexts

Accepts commands over HTTP (POST /v1/contexts/<context>/commands), authenticates them by API key, produces them to
<context>.commands keyed by aggregate id and answers with the outcome the processor writes to
<context>.command-results (accepted with a consistency token, rejected 422, conflict 409, invalid 400). It
holds no state: run as many instances as needed behind a load balancer. GET /healthz, GET /metrics
(Prometheus) and GET /openapi.json are served on the same port.

Usage: tidemark gateway --brokers <host:port,...> --api-keys-file <path> [options]
       TIDEMARK_BROKERS=<host:port,...> TIDEMARK_API_KEYS_FILE=<path> tidemark gateway

${renderOptions('gateway')}
API key scopes: commands:write:<context>, commands:read:<context>, commands:write:* and commands:read:* (every
context), commands:* (both), or * for everything.

Prints "gateway ready <url>" on stdout once it listens and its results consumers have joined; SIGINT or SIGTERM
stops it cleanly.
`;

export async function runGatewayCommand(argv: string[]): Promise<void> {
  const parsed = await parseServiceArgs('gateway', argv, HELP);
  if (parsed === null) return;
  const s = parsed.settings;
  const logger = createLogger('tidemark.gateway', { level: s['log-level'] });
  const deployment = await deploymentOf(s);
  const names = selectedContexts(deployment, s.contexts);
  const contexts = names.map((name) => deployment.context(name));
  const transport = await KafkaCommandTransport.start({ brokers: s.brokers, contexts: names, logger });
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway({
      contexts,
      transport,
      // One of the two is set (the settings table checks it).
      apiKeys: s['api-keys'] ?? s['api-keys-file'] ?? [],
      logger,
      host: s.host,
      port: s.port,
      waitTimeoutMs: s['wait-timeout-ms'],
      maxInFlight: s['max-in-flight'],
      maxBodyBytes: s['max-body-bytes'],
    });
  } catch (error) {
    await transport.close();
    throw error;
  }
  process.stdout.write(`gateway ready ${gateway.url} contexts ${names.join(',')}\n`);
  // The HTTP side first, so no request is left with a closed transport.
  await runUntilSignalled('gateway', async () => {
    await gateway.close();
    await transport.close();
  });
}
