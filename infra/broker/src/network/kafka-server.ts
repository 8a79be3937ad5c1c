/** The TCP listener of the Kafka protocol: accepts connections and owns them until close(). */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { BrokerServices } from '../contracts';
import { Connection } from './connection';

export class KafkaServer {
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();
  private closing: Promise<void> | null = null;

  constructor(private readonly services: BrokerServices) {}

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.server !== null) return Promise.reject(new Error('KafkaServer is already listening'));
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        this.server = null;
        reject(error);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (error) => this.services.logger.error({ err: error }, 'kafka listener error'));
        const address = server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting, closes every connection (aborting pending requests) and resolves once the listener is closed. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    const server = this.server;
    this.closing = new Promise<void>((resolve) => {
      if (server === null) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });
    for (const connection of [...this.connections]) connection.close();
    return this.closing;
  }

  /** Number of open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, this.services, (c) => this.connections.delete(c));
    this.connections.add(connection);
  }
}
