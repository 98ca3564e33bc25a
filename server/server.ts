// Server lifecycle: open the store (migrations run), load the registry, serve the API with
// health and reflection, and close in order: NOT_SERVING, end streams with UNAVAILABLE,
// drain calls (tryShutdown, then forceShutdown), commit queued writes, close the database.

import * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { serviceDefinitions, SERVICE_NAMES } from '../proto/load.ts';
import type { Clock } from './core/clock.ts';
import { followFailureLog } from './follow-failures.ts';
import { Registry, type RetentionPolicy } from './core/registry.ts';
import type { Durability, ServedStore, StoreFactory } from './core/store.ts';
import { WatchHub } from './core/watch-hub.ts';
import { DEFAULT_WATCH_BUFFER_BYTES, watchHandlers } from './grpc/watch-service.ts';
import { sqliteStore } from './store/worker-store.ts';
import { registryHandlers } from './grpc/registry-service.ts';
import { compatibilityHandlers } from './grpc/compatibility-service.ts';
import { acceptingPreEncoded } from './grpc/verdict-encoding.ts';
import { adminHandlers } from './grpc/admin-service.ts';
import { historyHandlers, logCompacted } from './grpc/history-service.ts';
import { StreamTracker } from './grpc/streams.ts';
import type { FiniteStreamStats } from './grpc/finite-admission.ts';
import { addReflection } from './grpc/reflection.ts';
import { HealthService } from './grpc/health-service.ts';
import { connectionOptions, defaultLimits, limitsInterceptor, type Limits, type LimitStats } from './grpc/limits.ts';
import { refuseMalformedRequests, strictServices } from './grpc/strict-decoding.ts';
import { memoizingSyncHost } from './grpc/sync-host-decoding.ts';
import { encodingSyncHostResponse } from './grpc/sync-host-encoding.ts';
import { guarded, hasRole, type GuardedService } from './grpc/auth.ts';
import { ReloadingServerCredentials, type TlsFiles } from './grpc/tls-credentials.ts';
import type { AuthzPolicy } from './core/authz.ts';
import { placementHandlers } from './grpc/placement-service.ts';
import type { Tracer } from '@opentelemetry/api';
import { identityFromSubjectAltName } from './core/authz.ts';
import { isLeaseExpiry } from './core/leases.ts';
import { DEFAULT_SLOW_REQUEST_MS, telemetryInterceptor } from './grpc/telemetry.ts';
import type { MetricsListener } from './metrics.ts';
import { callTracer } from './tracing.ts';
import { minRevisionInterceptor } from './grpc/min-revision.ts';
import { BurstReclaim, fullCollection } from './grpc/burst-reclaim.ts';
import { DEFAULT_MAX_LAG_MS, ServingHealth } from './grpc/serving-health.ts';
import { SERVER_FLOW_CONTROL_WINDOW, widenFlowControlWindow } from './grpc/flow-control-window.ts';
import { StreamCap, WATCH_STREAMS } from './grpc/stream-cap.ts';

import { DEFAULT_ADDRESS, DEFAULT_MAX_MESSAGE_BYTES } from './server-defaults.ts';
import { checkListenSecurity } from './listen-security.ts';

export { DEFAULT_ADDRESS, DEFAULT_DB_PATH, DEFAULT_MAX_MESSAGE_BYTES } from './server-defaults.ts';

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
   * Called when the server can no longer store writes (its storage worker died), or, as a
   * replica, can no longer follow the shared store (another replica compacted history it had
   * not followed yet). The server has already turned NOT_SERVING and started closing; `npm
   * start` exits with code 1 so a supervisor restarts it on the same store, where it loads the
   * registry again (nothing acknowledged is lost).
   */
  readonly onFatal?: (error: Error) => void;
  /** Host lease TTL in ms (default 30 s). */
  readonly leaseTtlMs?: number;
  /** What one watch may have written but not yet flushed before it is cut off (default 8 MiB). */
  readonly watchBufferBytes?: number;
  /**
   * A replica over a shared store (PostgreSQL) is NOT_SERVING while it has not held the
   * store's head for longer than this many ms (default 10 s; 0: lag does not count).
   */
  readonly maxLagMs?: number;
  /** Compacts history periodically (every minute, and at start-up). */
  readonly retention?: RetentionPolicy;
  /** How often the history head is logged (default 60 s). */
  readonly headLogIntervalMs?: number;
  /** Connection and call limits (server/grpc/limits.ts); each one not given takes its default. */
  readonly limits?: Partial<Limits>;
  // Durability at start-up (issue 10) -------------------------------------------------
  /** Accept a database behind or off its head anchor as a restore (recorded; numbering resumes above the anchor). */
  readonly acceptRestore?: boolean;
  /**
   * Re-anchor a database whose head anchor is missing, unreadable or another database's, for
   * this reason (`--reanchor <reason>`): recorded as a revision, logged as a warning.
   */
  readonly reanchor?: string;
  /** Newest history entries verified at start-up (default 10,000; 0: none). */
  readonly startupChainCheck?: number;
  /**
   * TLS (`--tls-cert`, `--tls-key`), and with `clientCaFile` (`--client-ca`) mutual TLS, where
   * each call is authenticated by its client certificate and authorized by `authz`. The files
   * are re-read when they change (checked every `reloadIntervalMs`, default 5 s).
   */
  readonly tls?: TlsFiles & { readonly reloadIntervalMs?: number };
  /** The authorization policy (`--authz`); required with `tls.clientCaFile`. */
  readonly authz?: AuthzPolicy;
  /** Allows listening on a non-loopback address without TLS (`--insecure`; logged as a warning). */
  readonly insecure?: boolean;
  // Observability (docs/operations.md, Metrics, logs and traces) ----------------------------
  /** Where Prometheus metrics are served (`host:port`, `/metrics`); undefined: no metrics. */
  readonly metricsAddress?: string;
  /** A unary call slower than this many ms is logged at `warn` (default 1000; 0: never). */
  readonly slowRequestMs?: number;
  /** Makes one span per call (server/tracing.ts builds it from OTEL_*); undefined: no tracing. */
  readonly tracer?: Tracer;
}

/** Checks the security options before anything is opened: a mistake here must not half-start. */
function checkSecurity(options: ServerOptions, address: string, log: Logger): void {
  const warning = checkListenSecurity(
    { tls: Boolean(options.tls), clientCa: Boolean(options.tls?.clientCaFile), authz: Boolean(options.authz), insecure: Boolean(options.insecure) },
    address,
  );
  if (warning === 'insecure') {
    log.warn({ address }, 'listening without TLS on a non-loopback address (--insecure): any client can write anything');
  } else if (warning === 'unauthenticated-tls') {
    log.warn('TLS without --client-ca: traffic is encrypted but callers are not authenticated, so roles do not apply');
  }
}

export interface RunningServer {
  /** `host:port` actually bound (port 0 resolves to a real one). */
  readonly address: string;
  readonly port: number;
  readonly registry: Registry;
  readonly watches: WatchHub;
  /** Open FindTargets / CheckCompatibilityStream streams right now. */
  openStreams(): number;
  /** Searches (FindTargets, FindPlacements) in progress, stalled on their clients, evicted and refused (finite-admission.ts). */
  finiteStreams(): FiniteStreamStats;
  /** Calls shed over the memory budget and cut off by the receive timeout, since start. */
  readonly limitStats: Readonly<LimitStats>;
  /** Request streams open and refused per connection, and the request bytes they hold unread (stream-cap.ts). */
  readonly requestStreams: Pick<StreamCap, 'maxPerConnection' | 'openStreams' | 'refused' | 'unreadBytes'>;
  /** Watches (Watch, WatchTargets) open and refused per connection (stream-cap.ts). */
  readonly watchStreams: Pick<StreamCap, 'maxPerConnection' | 'openStreams' | 'refused'>;
  /** `host:port` of the metrics listener, when there is one. */
  readonly metricsAddress?: string;
  close(): Promise<void>;
}

/** What the store checked while opening; an accepted restore or a re-anchoring is logged loudly. */
function logStartupChecks(log: Logger, db: string, startup: ServedStore['startup'], reanchor: string | undefined): void {
  if (!startup) return;
  if (startup.restore) {
    log.warn(
      { db, revision: startup.restore.revision, problem: startup.restore.problem },
      `RESTORE ACCEPTED: ${startup.restore.problem}; recorded as revision ${startup.restore.revision}, numbering resumes above it`,
    );
  }
  if (startup.reanchored) {
    const { revision, problem, operator, reason } = startup.reanchored;
    log.warn(
      { db, revision, problem, operator, reason },
      `RE-ANCHORED by ${operator} (${reason}): ${problem}; recorded as revision ${revision}`,
    );
  } else if (reanchor !== undefined) {
    log.warn({ db, reason: reanchor }, '--reanchor given, but the head anchor vouches for the database: nothing was re-anchored');
  }
  log.info({ db, head_anchor: startup.anchor, checked_entries: startup.checkedEntries }, 'database checked');
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.logger ?? pino({ level: 'silent' });
  const address = options.address ?? DEFAULT_ADDRESS;
  checkSecurity(options, address, log);
  const credentials = options.tls
    ? new ReloadingServerCredentials(
        options.tls,
        {
          reloaded: () => log.info('TLS certificates reloaded'),
          failed: (error) => log.error({ err: error }, 'TLS certificates changed but cannot be loaded: still serving the previous ones'),
        },
        options.tls.reloadIntervalMs,
      )
    : grpc.ServerCredentials.createInsecure();
  // With mutual TLS every call of our services passes the one check (grpc/auth.ts); health and
  // reflection stay open, as a load balancer probes them without a certificate.
  const policy = options.tls?.clientCaFile ? options.authz : undefined;
  const secured = (service: GuardedService, handlers: grpc.UntypedServiceImplementation) =>
    policy ? guarded(service, handlers, policy, log) : handlers;
  const openStore =
    options.store ??
    sqliteStore({
      path: options.dbPath,
      durability: options.durability ?? 'full',
      acceptRestore: options.acceptRestore,
      reanchor: options.reanchor,
      startupChainCheck: options.startupChainCheck,
    });
  // The store opens in its own thread (the SQLite worker: migrations, the chain check, the
  // head anchor) while this one parses the protos for the services, which need no registry:
  // on a restart they would otherwise wait for each other.
  // A store that reads its devices while it opens gives them to the registry's state as they
  // arrive (core/state-load.ts); they are used only if it opens.
  const opening = openStore(Registry.stateLoad({ leaseTtlMs: options.leaseTtlMs }));
  let services: ReturnType<typeof strictServices>;
  try {
    services = strictServices(serviceDefinitions());
  } catch (error) {
    void opening.then((store) => store.close(), () => undefined);
    throw error;
  }
  const store = await opening;
  // prom-client and OpenTelemetry are loaded only when asked for.
  const metricsModule = options.metricsAddress !== undefined ? await import('./metrics.ts') : undefined;
  const metrics = metricsModule ? new metricsModule.ServerMetrics() : undefined;
  metrics?.observeCommits(store);
  const tracer = options.tracer ? await callTracer(options.tracer) : undefined;
  logStartupChecks(log, options.dbPath, store.startup, options.reanchor);
  let registry: Registry;
  // A replica that can no longer follow the shared store stops like one whose store failed
  // (below); until the server is up, the error waits.
  let followBroken: (error: Error) => void = (error) => {
    brokenEarly ??= error;
  };
  let brokenEarly: Error | undefined;
  const followFailures = followFailureLog(log);
  try {
    registry = await Registry.open(store, {
      leaseTtlMs: options.leaseTtlMs,
      clock: options.clock,
      followLog: store.log,
      onFollowBroken: (error) => followBroken(error),
      // Called after open: the registry is there (a catch-up during open fails the open).
      onFollowFailed: (error) => followFailures.failed(error, registry?.revision ?? 0),
      onFollowRecovered: () => followFailures.recovered(registry?.revision ?? 0),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const applied = store.migrations?.applied ?? [];
  if (applied.length > 0) log.info({ applied }, 'migrations applied');

  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const limits: Limits = { ...defaultLimits(), ...options.limits };
  const limitStats: LimitStats = { shed: 0, receiveTimeouts: 0 };
  const requestStreams = new StreamCap(limits.maxRequestStreamsPerConnection, log);
  const watchStreams = new StreamCap(limits.maxWatchesPerConnection, log, WATCH_STREAMS);
  /** The caller's identity under mutual TLS (undefined when it has none); no function without a policy. */
  const identityOf = policy
    ? (call: grpc.ServerInterceptingCallInterface) => {
        try {
          return identityFromSubjectAltName(call.getAuthContext().sslPeerCertificate?.subjectaltname, policy).identity;
        } catch {
          return undefined;
        }
      }
    : undefined;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    ...connectionOptions(limits),
    // Limits first; then strict input (issue 10): a malformed request is INVALID_ARGUMENT
    // before any handler.
    // Telemetry right after the limits, so that it sees every call and how it ended; the cap
    // on request streams per connection right after telemetry, which measures its refusals.
    interceptors: [
      limitsInterceptor(limits, log, limitStats),
      telemetryInterceptor({
        log,
        slowRequestMs: options.slowRequestMs ?? DEFAULT_SLOW_REQUEST_MS,
        metrics,
        tracer,
        identityOf,
        shedCount: () => limitStats.shed,
      }),
      requestStreams.interceptor(),
      watchStreams.interceptor(),
      refuseMalformedRequests(log),
      // Under mutual TLS a caller its handler will refuse (no current certificate, no identity,
      // no role) is not held: waiting would tell it the registry's revision.
      minRevisionInterceptor(() => registry, log, policy && ((call) => hasRole(call, policy))),
    ],
  });
  const streams = new StreamTracker({
    maxFiniteStreams: limits.maxFiniteStreams,
    maxFiniteStreamsPerClient: limits.maxFiniteStreamsPerClient,
    sendTimeoutMs: limits.sendTimeoutMs,
    evictUnreadAfterMs: limits.evictUnreadAfterMs,
    admissionWaitMs: limits.admissionWaitMs,
  });
  // Memory back after a burst of refused or evicted searches (burst-reclaim.ts).
  const collect = fullCollection();
  const reclaim = collect
    ? new BurstReclaim(() => {
        const before = process.memoryUsage.rss();
        collect();
        log.info({ rss_before: before, rss_after: process.memoryUsage.rss() }, 'memory collected after a burst of refused or evicted searches');
      })
    : undefined;
  if (reclaim) {
    streams.finite.onAdmit = () => reclaim.started();
    streams.finite.onIdle = (trouble) => reclaim.idle(trouble);
  }
  const watchBufferBytes = options.watchBufferBytes ?? DEFAULT_WATCH_BUFFER_BYTES;
  const hub = new WatchHub(registry, options.clock);
  const registryService = services.RegistryService.service;
  server.addService(
    { ...registryService, SyncHost: encodingSyncHostResponse(memoizingSyncHost(registryService.SyncHost)) },
    secured('RegistryService', registryHandlers(registry, streams, log)),
  );
  const compatibility = services.CompatibilityService.service;
  server.addService(
    {
      ...compatibility,
      CheckCompatibility: acceptingPreEncoded(compatibility.CheckCompatibility),
      CheckCompatibilityStream: acceptingPreEncoded(compatibility.CheckCompatibilityStream),
      FindTargets: acceptingPreEncoded(compatibility.FindTargets),
      WatchTargets: acceptingPreEncoded(compatibility.WatchTargets),
    },
    secured('CompatibilityService', compatibilityHandlers(registry, streams, log, { watchBufferBytes })),
  );
  server.addService(services.HistoryService.service, secured('HistoryService', historyHandlers(registry, log)));
  const watch = services.WatchService.service;
  server.addService(
    { ...watch, Watch: acceptingPreEncoded(watch.Watch) },
    secured('WatchService', watchHandlers(registry, hub, streams, log, { bufferBytes: watchBufferBytes })),
  );
  server.addService(services.PlacementService.service, secured('PlacementService', placementHandlers(registry, streams, log)));
  server.addService(services.AdminService.service, secured('AdminService', adminHandlers(registry, log)));
  const health = new HealthService({
    '': 'SERVING',
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [name, 'SERVING' as const])),
  });
  // Health watches are tracked like our own streams: on close, watchers first receive
  // NOT_SERVING, then their stream ends, so a load balancer's watch never holds shutdown.
  health.addToServer(server, (call) => streams.track(call));
  addReflection(server);
  const serving = new ServingHealth(health, SERVICE_NAMES, log);
  const maxLagMs = options.maxLagMs ?? DEFAULT_MAX_LAG_MS;

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, credentials, (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  } catch (error) {
    if (credentials instanceof ReloadingServerCredentials) credentials.stop();
    await store.close();
    throw new Error(`cannot listen on ${address}: ${(error as Error).message}`);
  }
  widenFlowControlWindow(server, SERVER_FLOW_CONTROL_WINDOW, log);
  const host = address.slice(0, address.lastIndexOf(':'));
  const boundAddress = `${host}:${port}`;
  let metricsListener: MetricsListener | undefined;
  if (metricsModule && metrics) {
    try {
      metricsListener = await metricsModule.serveMetrics(metrics, options.metricsAddress!, log);
    } catch (error) {
      server.forceShutdown();
      if (credentials instanceof ReloadingServerCredentials) credentials.stop();
      await store.close();
      throw error;
    }
  }
  // Leases start once the server listens: a lease that ran out while the server was down is
  // expired now, dated when it ran out.
  const detachMetrics = metrics?.attach({ registry, hub, streams, limitStats, requestStreams, watchStreams });
  const stopLeaseLog = registry.subscribe((change) => {
    for (const entry of change.entries) {
      if (!isLeaseExpiry(entry)) continue;
      log.info({ host: entry.hostId, revision: change.revision, expired_at: new Date(entry.time).toISOString() }, 'lease expired: host is UNREACHABLE');
    }
  });
  registry.startLeases();
  const timers: NodeJS.Timeout[] = [];
  if (options.retention) {
    const policy = options.retention;
    const retain = () =>
      registry.applyRetention(policy).then(
        (result) => result && logCompacted(log, result),
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
      tls: options.tls ? (policy ? 'mutual' : 'server-only') : 'off',
      revision: registry.revision,
      head_hash: registry.headHash,
      lease_ttl_ms: registry.leaseTtlMs,
      max_lag_ms: maxLagMs,
      metrics: metricsListener?.address ?? 'off',
      tracing: options.tracer ? 'on' : 'off',
      limits,
      ...registry.stats,
    },
    'devcompat serving',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      serving.close();
      for (const timer of timers) clearInterval(timer);
      stopLeaseLog();
      hub.close();
      reclaim?.stop();
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
      if (credentials instanceof ReloadingServerCredentials) credentials.stop();
      detachMetrics?.();
      await metricsListener?.close();
      log.info('devcompat stopped');
    })();
    return closing;
  };

  // A store over the network (PostgreSQL) can be unreachable for a while, and a replica can
  // fall behind it: NOT_SERVING meanwhile, so load balancers send calls to a replica that can
  // answer; SERVING again once it is back and caught up.
  store.onReachability?.((reachable, detail) => serving.reachability(reachable, detail));
  store.onLeaseDuty?.((held, fromHung) => {
    if (!held) log.info('this replica no longer holds the lease-expiry duty');
    else if (fromHung === undefined) log.info('this replica holds the lease-expiry duty');
    else {
      log.warn(
        { ended_session_pid: fromHung },
        'this replica took the lease-expiry duty from a replica that stopped answering (its database session was idle too long, and was ended)',
      );
    }
  });
  serving.watchLag(() => registry.followLag(), maxLagMs);
  store.onFailure((error) => {
    log.fatal({ err: error }, 'the storage worker failed: no write can be stored; shutting down');
    void close().finally(() => options.onFatal?.(error));
  });
  followBroken = (error) => {
    log.fatal({ err: error }, 'this replica can no longer follow the database: shutting down, to be restarted');
    void close().finally(() => options.onFatal?.(error));
  };
  if (brokenEarly) followBroken(brokenEarly);

  return {
    address: boundAddress,
    port,
    registry,
    watches: hub,
    openStreams: () => streams.size,
    finiteStreams: () => streams.finite.stats(),
    limitStats,
    requestStreams,
    watchStreams,
    metricsAddress: metricsListener?.address,
    close,
  };
}
