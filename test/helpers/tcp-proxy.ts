// A loopback TCP proxy whose target can be switched, standing for what points replicas at the
// current primary in production (a virtual IP, HAProxy under Patroni, a managed service's
// endpoint): switching it cuts every open connection, as a failover does. It can also stall:
// connections stay open but no byte passes either way (a network path that silently drops
// packets), until it resumes and what was held back flows on.

import type { ExecutionContext } from 'ava';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<Pair>();
  private stalled = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private target: number,
  ) {}

  static async start(target: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    proxy = new TcpProxy(server, port, target);
    return proxy;
  }

  private accept(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.target });
    const pair = { client, upstream };
    this.pairs.add(pair);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.pairs.delete(pair);
      });
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    if (this.stalled) {
      client.pause();
      upstream.pause();
    } else {
      TcpProxy.connect(pair);
    }
  }

  private static connect({ client, upstream }: Pair): void {
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** New connections go to `target`; open ones are cut. */
  switchTo(target: number): void {
    this.target = target;
    for (const socket of this.sockets) socket.destroy();
  }

  /** No byte passes any more, either way, on open or new connections; nothing is closed. */
  stall(): void {
    this.stalled = true;
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Bytes pass again, those held back first. */
  resume(): void {
    this.stalled = false;
    for (const pair of this.pairs) TcpProxy.connect(pair);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A server address (`postgres://...`) reached through a new proxy instead, closed when the test ends. */
export async function throughProxy(t: ExecutionContext, url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const direct = new URL(url);
  const proxy = await TcpProxy.start(Number(direct.port));
  t.teardown(() => proxy.close());
  direct.port = String(proxy.port);
  return { proxy, url: direct.toString() };
}
