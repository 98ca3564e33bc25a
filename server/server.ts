// Server lifecycle: open the store (migrations run), load the registry, serve the API with
// health and reflection, and close in order: NOT_SERVING, end streams with UNAVAILABLE,
// drain calls (tryShutdown, then forceShutdown), commit queued writes, close the database.

import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { pino, type Logger } from 'pino';
import { loadServices, SERVICE_NAMES } from '../proto/load.ts';
import type { Clock } from './core/clock.ts';
import { Registry, type RetentionPolicy } from './core/registry.ts';
import type { Durability, StoreFactory } from './core/store.ts';
import { WatchHub } from './core/watch-hub.ts';
import { DEFAULT_WATCH_BUFFER_BYTES, watchHandlers } from './grpc/watch-service.ts';
import { sqliteStore } from './store/worker-store.ts';
import { registryHandlers } from './grpc/registry-service.ts';
import { compatibilityHandlers } from './grpc/compatibility-service.ts';
import { acceptingPreEncoded } from './grpc/verdict-encoding.ts';
import { historyHandlers } from './grpc/history-service.ts';
import { StreamTracker } from './grpc/streams.ts';
import { reflectionService } from './grpc/reflection.ts';
import { placementHandlers } from './grpc/placement-service.ts';

export const DEFAULT_ADDRESS = '127.0.0.1:50051';
export const DEFAULT_DB_PATH = './data/devcompat.db';
/** Larger messages are refused by grpc-js before they are buffered. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface ServerOptions {
  /** The SQLite file of the default store (ignored when `store` is given). */
  readonly dbPath: string;
  readonly address?: string;
  /** The default store's durability mode (default `full`). */
  readonly durability?: Durability;
  /** Opens the store (default: SQLite at `dbPath`, in a worker thread). */
  readonly store?: StoreFactory;
  /** Time and timers for leases, revision times and retention (default: the system clock). */
  readonly clock?: Clock;
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
  /** Milliseconds to let in-flight calls finish on close before they are cut. */
  readonly shutdownGraceMs?: number;
  /**
   * Called when the server can no longer store writes (its storage worker died). The server
   * has already turned NOT_SERVING and started closing; `npm start` exits with code 1 so a
   * supervisor restarts it on the same file (nothing acknowledged is lost).
   */
  readonly onFatal?: (error: Error) => void;
  /** Host lease TTL in ms (default 30 s). */
  readonly leaseTtlMs?: number;
  /** What one watch may have written but not yet flushed before it is cut off (default 8 MiB). */
  readonly watchBufferBytes?: number;
  /** Compacts history periodically (every minute, and at start-up). */
  readonly retention?: RetentionPolicy;
  /** How often the history head is logged (default 60 s). */
  readonly headLogIntervalMs?: number;
}

export interface RunningServer {
  /** `host:port` actually bound (port 0 resolves to a real one). */
  readonly address: string;
  readonly port: number;
  readonly registry: Registry;
  readonly watches: WatchHub;
  /** Open FindTargets / CheckCompatibilityStream streams right now. */
  openStreams(): number;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.logger ?? pino({ level: 'silent' });
  const openStore = options.store ?? sqliteStore({ path: options.dbPath, durability: options.durability ?? 'full' });
  const store = await openStore();
  let registry: Registry;
  try {
    registry = await Registry.open(store, { leaseTtlMs: options.leaseTtlMs, clock: options.clock });
  } catch (error) {
    await store.close();
    throw error;
  }
  const applied = store.migrations?.applied ?? [];
  if (applied.length > 0) log.info({ applied }, 'migrations applied');

  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  });
  const services = loadServices();
  const streams = new StreamTracker();
  const watchBufferBytes = options.watchBufferBytes ?? DEFAULT_WATCH_BUFFER_BYTES;
  const hub = new WatchHub(registry, options.clock);
  server.addService(services.RegistryService.service, registryHandlers(registry, streams, log));
  const compatibility = services.CompatibilityService.service;
  server.addService(
    {
      ...compatibility,
      CheckCompatibility: acceptingPreEncoded(compatibility.CheckCompatibility),
      CheckCompatibilityStream: acceptingPreEncoded(compatibility.CheckCompatibilityStream),
      WatchTargets: acceptingPreEncoded(compatibility.WatchTargets),
    },
    compatibilityHandlers(registry, streams, log, { watchBufferBytes }),
  );
  server.addService(services.HistoryService.service, historyHandlers(registry, log));
  const watch = services.WatchService.service;
  server.addService(
    { ...watch, Watch: acceptingPreEncoded(watch.Watch) },
    watchHandlers(registry, hub, streams, log, { bufferBytes: watchBufferBytes }),
  );
  server.addService(services.PlacementService.service, placementHandlers(registry, streams, log));
  const health = new HealthImplementation({
    '': 'SERVING',
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [name, 'SERVING' as const])),
  });
  // Health watches are tracked like our own streams: on close, watchers first receive
  // NOT_SERVING, then their stream ends, so a load balancer's watch never holds shutdown.
  health.addToServer({
    addService: (service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) =>
      server.addService(service, {
        ...implementation,
        watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
          streams.track(call);
          (implementation.watch as grpc.handleServerStreamingCall<unknown, unknown>)(call);
        },
      }),
  } as unknown as grpc.Server);
  reflectionService().addToServer(server);

  const address = options.address ?? DEFAULT_ADDRESS;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  } catch (error) {
    await store.close();
    throw new Error(`cannot listen on ${address}: ${(error as Error).message}`);
  }
  const host = address.slice(0, address.lastIndexOf(':'));
  const boundAddress = `${host}:${port}`;
  // Leases start once the server listens: a lease that ran out while the server was down is
  // expired now, dated when it ran out.
  registry.startLeases();
  const timers: NodeJS.Timeout[] = [];
  if (options.retention) {
    const policy = options.retention;
    const retain = () =>
      registry.applyRetention(policy).then(
        (result) => result && log.info({ checkpoint: result.checkpoint, removed: result.removed }, 'history compacted'),
        (error: unknown) => log.error({ err: error }, 'history compaction failed'),
      );
    void retain();
    timers.push(setInterval(retain, 60_000).unref());
  }
  // The head is logged so that it is anchored outside the database file.
  let loggedHead = '';
  const logHead = () => {
    if (registry.headHash === loggedHead) return;
    loggedHead = registry.headHash;
    log.info({ revision: registry.revision, head_hash: registry.headHash }, 'history head');
  };
  timers.push(setInterval(logHead, options.headLogIntervalMs ?? 60_000).unref());
  log.info(
    {
      address: boundAddress,
      db: options.dbPath,
      revision: registry.revision,
      head_hash: registry.headHash,
      lease_ttl_ms: registry.leaseTtlMs,
      ...registry.stats,
    },
    'devcompat serving',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      health.setStatus('', 'NOT_SERVING');
      for (const name of SERVICE_NAMES) health.setStatus(name, 'NOT_SERVING');
      for (const timer of timers) clearInterval(timer);
      hub.close();
      streams.endAll();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, options.shutdownGraceMs ?? 5000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await registry.close().catch((error: unknown) => log.error({ err: error }, 'queued writes could not be committed'));
      logHead();
      await store.close();
      log.info('devcompat stopped');
    })();
    return closing;
  };

  store.onFailure((error) => {
    log.fatal({ err: error }, 'the storage worker failed: no write can be stored; shutting down');
    void close().finally(() => options.onFatal?.(error));
  });

  return { address: boundAddress, port, registry, watches: hub, openStreams: () => streams.size, close };
}
