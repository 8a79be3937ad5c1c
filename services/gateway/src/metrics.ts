import { Counter, Gauge, Registry, Summary } from 'prom-client';

/** The gateway's Prometheus metrics, in a registry of its own (several gateways can live in one process). */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'tidemark_gateway_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly outcomes = new Counter({
    name: 'tidemark_gateway_command_outcomes_total',
    help: 'Command answers by context, command type and status (accepted, rejected, conflict, invalid, pending, log_unavailable)',
    labelNames: ['context', 'type', 'status'] as const,
    registers: [this.registry],
  });

  readonly waitSeconds = new Summary({
    name: 'tidemark_gateway_command_wait_seconds',
    help: 'Time from sending a command to its outcome (or the wait timing out)',
    labelNames: ['context'] as const,
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'tidemark_gateway_commands_in_flight',
    help: 'Commands currently waiting for their outcome',
    registers: [this.registry],
  });

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
