// Metrics: every metric the server exposes, in Prometheus's text format on `--metrics-address`
// (off by default). The one file that knows prom-client. Per-call metrics come from the call
// interceptor (grpc/telemetry.ts, through CallMetrics) and store commits are timed by wrapping
// the store's `commit`; everything else is read at scrape time (`collect`) from counts the core
// and the transport keep anyway (Registry.gauges, WatchHub.progress, StreamTracker.tooSlow,
// LimitStats), so the core stays free of metrics code and a server without a metrics address
// pays nothing for them. docs/operations.md lists every metric; a test keeps the two equal.

import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry as PromRegistry } from 'prom-client';
import { isLeaseExpiry, type Registry } from './core/registry.ts';
import { StaleBatchError, type ServedStore } from './core/store.ts';
import type { WatchHub } from './core/watch-hub.ts';
import type { LimitStats } from './grpc/limits.ts';
import type { StreamCap } from './grpc/stream-cap.ts';
import type { StreamTracker } from './grpc/streams.ts';
import type { CallMethod, CallMetrics } from './grpc/telemetry.ts';

/** What the scrape-time metrics read. */
export interface MetricSources {
  readonly registry: Registry;
  readonly hub: WatchHub;
  readonly streams: StreamTracker;
  readonly limitStats: Readonly<LimitStats>;
  readonly requestStreams: Pick<StreamCap, 'refused' | 'unreadBytes'>;
  readonly watchStreams: Pick<StreamCap, 'refused'>;
}

const CALL_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const COMMIT_SECONDS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_REVISIONS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

type MethodLabels = { grpc_service: string; grpc_method: string; grpc_type: string };

/** `/devcompat.v1.WatchService/Watch` → its service and method labels. */
function splitPath(path: string): { grpc_service: string; grpc_method: string } {
  const [, service = '', method = ''] = /^\/([^/]*)\/(.*)$/.exec(path) ?? [];
  return { grpc_service: service, grpc_method: method };
}

export class ServerMetrics implements CallMetrics {
  readonly register = new PromRegistry();
  private sources: MetricSources | undefined;
  private leaseExpiries = 0;
  private readonly labels = new Map<string, { method: MethodLabels; byCode: Map<grpc.status, MethodLabels & { grpc_code: string }> }>();

  private readonly startedCalls = new Counter({
    name: 'grpc_server_started_total',
    help: 'Calls started, by method.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_type'],
    registers: [this.register],
  });
  private readonly handled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'Calls ended, by method and gRPC status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_type', 'grpc_code'],
    registers: [this.register],
  });
  private readonly handling = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time from a call starting to its end (a stream: its whole life), by method.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_type'],
    buckets: CALL_SECONDS_BUCKETS,
    registers: [this.register],
  });
  private readonly received = new Counter({
    name: 'grpc_server_msg_received_total',
    help: 'Request messages received, by method (counted when the call ends).',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_type'],
    registers: [this.register],
  });
  private readonly sent = new Counter({
    name: 'grpc_server_msg_sent_total',
    help: 'Response messages sent, by method (counted when the call ends).',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_type'],
    registers: [this.register],
  });
  private readonly openStreams = new Gauge({
    name: 'devcompat_open_streams',
    help: 'Streaming calls open now, by method (Watch, WatchTargets, FindTargets, CheckCompatibilityStream, KeepAlive, health Watch).',
    labelNames: ['grpc_service', 'grpc_method'],
    registers: [this.register],
  });
  private readonly commitSeconds = new Histogram({
    name: 'devcompat_store_commit_seconds',
    help: 'Time a store commit takes as the registry waits for it: one transaction and its fsync (group commits and lease persistence).',
    buckets: COMMIT_SECONDS_BUCKETS,
    registers: [this.register],
  });
  private readonly batchRevisions = new Histogram({
    name: 'devcompat_commit_batch_revisions',
    help: 'Revisions written by one group commit (its batch size); commits that write no revision are not counted.',
    buckets: BATCH_REVISIONS_BUCKETS,
    registers: [this.register],
  });
  private readonly commitFailures = new Counter({
    name: 'devcompat_store_commit_failures_total',
    help: 'Store commits that failed (their writes were rejected, nothing was applied).',
    registers: [this.register],
  });
  private readonly commitReplans = new Counter({
    name: 'devcompat_store_commit_replans_total',
    help: 'Batches the store refused as planned behind a failed one or an old head; their writes were planned again, not rejected.',
    registers: [this.register],
  });

  constructor() {
    const metrics = this;
    const gauge = (name: string, help: string, read: (sources: MetricSources) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.register],
        collect() {
          if (metrics.sources) this.set(read(metrics.sources));
        },
      });
    gauge('devcompat_hosts', 'Hosts registered.', (s) => s.registry.gauges.hosts);
    gauge('devcompat_devices', 'Devices registered.', (s) => s.registry.gauges.devices);
    gauge('devcompat_descriptors', 'Distinct device descriptors interned (devices share them).', (s) => s.registry.gauges.descriptors);
    gauge('devcompat_claims', 'Placement claims held.', (s) => s.registry.gauges.claims);
    gauge('devcompat_revision', 'The registry revision (the last committed write).', (s) => s.registry.revision);
    gauge('devcompat_verdict_cache_entries', 'Verdicts cached (one per pair of distinct descriptors evaluated).', (s) => s.registry.gauges.verdictCache.size);
    gauge(
      'devcompat_watch_lag_revisions',
      'Revisions the watcher furthest behind still has to read from history (0 when every watcher is live).',
      (s) => s.hub.progress.lagRevisions,
    );
    gauge(
      'devcompat_replica_lag_seconds',
      'Replicas over PostgreSQL: seconds since this replica last held the database\'s head (health turns NOT_SERVING past --max-lag); 0 on a server that is its store\'s only writer.',
      (s) => (s.registry.followLag()?.lagMs ?? 0) / 1000,
    );
    gauge(
      'devcompat_replica_revisions_behind',
      'Replicas over PostgreSQL: revisions the database\'s head (as last read) is ahead of this replica; 0 on a server that is its store\'s only writer.',
      (s) => s.registry.followLag()?.revisionsBehind ?? 0,
    );
    new Gauge({
      name: 'devcompat_hosts_by_state',
      help: 'Hosts by lease state: READY, DRAINING (marked by an operator), UNREACHABLE (lease lapsed).',
      labelNames: ['state'],
      registers: [this.register],
      collect() {
        if (!metrics.sources) return;
        for (const [state, count] of Object.entries(metrics.sources.registry.gauges.hostStates)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'devcompat_watchers',
      help: 'Watch streams by phase: live, or catching_up from history.',
      labelNames: ['phase'],
      registers: [this.register],
      collect() {
        if (!metrics.sources) return;
        const { live, catchingUp } = metrics.sources.hub.progress;
        this.set({ phase: 'live' }, live);
        this.set({ phase: 'catching_up' }, catchingUp);
      },
    });
    // Counters the core and the transport keep: set from their totals at each scrape.
    const counter = (name: string, help: string, read: (sources: MetricSources) => number) =>
      new Counter({
        name,
        help,
        registers: [this.register],
        collect() {
          if (!metrics.sources) return;
          this.reset();
          this.inc(read(metrics.sources));
        },
      });
    counter(
      'devcompat_watch_fell_behind_total',
      'Times a live Watch had no room left in its 8 MiB buffer and was caught up from history instead, once its consumer read again.',
      (s) => s.hub.fellBehind,
    );
    counter('devcompat_lease_expiries_total', 'Leases that lapsed: hosts turned UNREACHABLE by the server.', () => this.leaseExpiries);
    counter('devcompat_calls_shed_total', 'Calls refused with RESOURCE_EXHAUSTED because the process was over its memory budget.', (s) => s.limitStats.shed);
    counter(
      'devcompat_request_streams_refused_total',
      'Request streams (CheckCompatibilityStream, KeepAlive, reflection) refused with RESOURCE_EXHAUSTED because their connection already had --max-request-streams-per-connection open.',
      (s) => s.requestStreams.refused,
    );
    counter(
      'devcompat_watches_refused_total',
      'Watches (Watch, WatchTargets) refused with RESOURCE_EXHAUSTED because their connection already had --max-watches-per-connection open.',
      (s) => s.watchStreams.refused,
    );
    gauge(
      'devcompat_request_stream_unread_bytes',
      'Request bytes that clients sent on open request streams and the server has not read yet (each stream at most its 512 KB flow-control window).',
      (s) => s.requestStreams.unreadBytes(),
    );
    counter(
      'devcompat_receive_timeouts_total',
      'Calls cut off with DEADLINE_EXCEEDED because their request did not arrive within the receive timeout.',
      (s) => s.limitStats.receiveTimeouts,
    );
    new Counter({
      name: 'devcompat_verdict_cache_lookups_total',
      help: 'Verdict lookups: hit (served from the cache) or miss (the pair was evaluated).',
      labelNames: ['result'],
      registers: [this.register],
      collect() {
        if (!metrics.sources) return;
        const { hits, misses } = metrics.sources.registry.gauges.verdictCache;
        this.reset();
        this.inc({ result: 'hit' }, hits);
        this.inc({ result: 'miss' }, misses);
      },
    });
    new Counter({
      name: 'devcompat_stream_cutoffs_total',
      help: 'Live streams ended with RESOURCE_EXHAUSTED (WATCH_TOO_SLOW): a WatchTargets whose consumer fell the buffer behind, a Watch whose consumer read nothing for --send-timeout.',
      labelNames: ['grpc_service', 'grpc_method'],
      registers: [this.register],
      collect() {
        if (!metrics.sources) return;
        this.reset();
        for (const [path, count] of metrics.sources.streams.tooSlow) this.inc(splitPath(path), count);
      },
    });
    new Gauge({
      name: 'devcompat_finite_streams',
      help: 'Searches (FindTargets, FindPlacements) in progress, by state: reading (being sent) or stalled (waiting for a client that reads nothing).',
      labelNames: ['state'],
      registers: [this.register],
      collect() {
        if (!metrics.sources) return;
        const stats = metrics.sources.streams.finite.stats();
        this.set({ state: 'reading' }, stats.inProgress - stats.stalled);
        this.set({ state: 'stalled' }, stats.stalled);
      },
    });
    new Counter({
      name: 'devcompat_finite_streams_refused_total',
      help: 'Searches refused or cut off with RESOURCE_EXHAUSTED by the finite-stream limits, by reason: per_client (--max-finite-streams-per-client), server_wide (--max-finite-streams), evicted (an unread search that gave way to another client).',
      labelNames: ['reason'],
      registers: [this.register],
      collect() {
        if (!metrics.sources) return;
        const stats = metrics.sources.streams.finite.stats();
        this.reset();
        this.inc({ reason: 'per_client' }, stats.refusedPerClient);
        this.inc({ reason: 'server_wide' }, stats.refusedServerWide);
        this.inc({ reason: 'evicted' }, stats.evictions);
      },
    });
    collectDefaultMetrics({ register: this.register });
  }

  /** Starts reading the server's state at each scrape; returns the function that stops it. */
  attach(sources: MetricSources): () => void {
    this.sources = sources;
    const unsubscribe = sources.registry.subscribe((change) => {
      for (const entry of change.entries) if (isLeaseExpiry(entry)) this.leaseExpiries++;
    });
    return () => {
      unsubscribe();
    };
  }

  /** Times the store's commits (group commits and lease persistence) and counts each batch's revisions. */
  observeCommits(store: ServedStore): void {
    const commit = store.commit.bind(store);
    store.commit = async (batch) => {
      const start = performance.now();
      try {
        const result = await commit(batch);
        this.commitSeconds.observe((performance.now() - start) / 1000);
        if (result.heads.length > 0) this.batchRevisions.observe(result.heads.length);
        return result;
      } catch (error) {
        if (error instanceof StaleBatchError) this.commitReplans.inc();
        else this.commitFailures.inc();
        throw error;
      }
    };
  }

  private labelsOf(method: CallMethod) {
    let labels = this.labels.get(method.path);
    if (!labels) {
      labels = { method: { grpc_service: method.service, grpc_method: method.method, grpc_type: method.type }, byCode: new Map() };
      this.labels.set(method.path, labels);
    }
    return labels;
  }

  started(method: CallMethod): void {
    const labels = this.labelsOf(method);
    this.startedCalls.inc(labels.method);
    if (method.type !== 'unary') this.openStreams.inc({ grpc_service: method.service, grpc_method: method.method });
  }

  ended(method: CallMethod, code: grpc.status, seconds: number, received: number, sent: number): void {
    const labels = this.labelsOf(method);
    let withCode = labels.byCode.get(code);
    if (!withCode) {
      withCode = { ...labels.method, grpc_code: grpc.status[code] ?? String(code) };
      labels.byCode.set(code, withCode);
    }
    this.handled.inc(withCode);
    this.handling.observe(labels.method, seconds);
    if (received > 0) this.received.inc(labels.method, received);
    if (sent > 0) this.sent.inc(labels.method, sent);
    if (method.type !== 'unary') this.openStreams.dec({ grpc_service: method.service, grpc_method: method.method });
  }
}

export interface MetricsListener {
  /** `host:port` bound (port 0 resolves to a real one). */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` on `address` (`host:port`; `[::1]:9464` for IPv6). */
export async function serveMetrics(metrics: ServerMetrics, address: string, log: Logger): Promise<MetricsListener> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !host || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--metrics-address must be host:port (such as 127.0.0.1:9464), got "${address}"`);
  }
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('metrics are served at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    metrics.register.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': metrics.register.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        log.error({ err: error }, 'metrics could not be collected');
        response.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve metrics on ${address}: ${error.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    address: `${shownHost}:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
