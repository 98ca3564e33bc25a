// The gRPC health protocol (grpc.health.v1) as a load balancer uses it: a Watch stream that
// receives each status change of a server, so a test waits for the change itself.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { ExecutionContext } from 'ava';

export class HealthWatch {
  /** Every status received, in order. */
  readonly seen: string[] = [];
  private readonly waiters: { status: string; from: number; resolve: () => void }[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientReadableStream<{ status: string }>;

  /** Watches the overall health ('') of the server at `address` until the test ends. */
  constructor(t: ExecutionContext, address: string) {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
    this.client = new Health(address, grpc.credentials.createInsecure());
    this.call = (this.client as any).Watch({ service: '' });
    this.call.on('data', (message: { status: string }) => {
      this.seen.push(message.status);
      for (const waiter of [...this.waiters]) this.settle(waiter);
    });
    this.call.on('error', () => undefined);
    t.teardown(() => {
      this.call.cancel();
      this.client.close();
    });
  }

  /** The latest status, once at least one was received. */
  get current(): string | undefined {
    return this.seen.at(-1);
  }

  /** Resolves when `status` is received after the `from`-th status (default: any time, current included). */
  until(status: string, from = 0): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { status, from, resolve };
      this.waiters.push(waiter);
      this.settle(waiter);
    });
  }

  private settle(waiter: { status: string; from: number; resolve: () => void }): void {
    if (!this.seen.slice(waiter.from).includes(waiter.status)) return;
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    waiter.resolve();
  }
}
