import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';

/**
 * A TCP proxy in front of the broker that can cut a client's connection right after forwarding a request of
 * a given Kafka API key, before the response comes back: the client sees a lost response and retries.
 */
export class KafkaTcpProxy {
  private server: Server | null = null;
  private target: { host: string; port: number } | null = null;
  private readonly sockets = new Set<Socket>();
  /** API keys whose next request is forwarded and then has its response dropped (connection cut). */
  private readonly dropNextResponse = new Map<number, number>();
  droppedResponses = 0;

  async listen(): Promise<number> {
    this.server = createServer((client) => this.handle(client));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  setTarget(host: string, port: number): void {
    this.target = { host, port };
  }

  dropResponsesOf(apiKey: number, count = 1): void {
    this.dropNextResponse.set(apiKey, (this.dropNextResponse.get(apiKey) ?? 0) + count);
  }

  private handle(client: Socket): void {
    if (!this.target) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    let cutAfterForward = false;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Forward whole frames so a request can be matched by its API key.
      while (pending.length >= 6) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(0, 4 + size);
        pending = pending.subarray(4 + size);
        const apiKey = frame.readInt16BE(4);
        const drops = this.dropNextResponse.get(apiKey) ?? 0;
        upstream.write(frame);
        if (drops > 0) {
          this.dropNextResponse.set(apiKey, drops - 1);
          cutAfterForward = true;
        }
      }
      if (cutAfterForward) {
        // Give the broker time to process the request, then lose its answer.
        setTimeout(() => {
          this.droppedResponses += 1;
          client.destroy();
          upstream.destroy();
        }, 200);
        client.pause();
        upstream.pause();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutAfterForward) client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
