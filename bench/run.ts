// The devcompat benchmark (`npm run bench`): the issue's targets, measured on a seeded fleet
// (bench/fleet.ts, the mix of the shared benchmark plan), with the server and the load
// generator in separate processes on loopback. Results are printed as a table (target and
// HIT/MISS per line) and written as JSON; docs/benchmarks.md records a run.
//
//   npm run bench -- [--hosts 10000] [--seed 1] [--durability full|relaxed]
//                    [--only sync,rss,etcd,floor,postgres,check,stream,find,placement,tls,watch,lease,restart,abuse,agent]
//                    [--abuse-streams 2000] [--abuse-hold 10]
//                    [--pg-hosts 1000] [--pg-replicas 1,3] [--pg-watch-rate 50] [--pg-bin <dir>]
//                    [--out bench/results/latest.json] [--etcd-bin etcd]
//                    [--profile <dir>]   (the server, and the watch phase's watchers, run with --cpu-prof, profiles written there)
//                    [--server-node-option=--max-semi-space-size=32 ...]   (experiments)
//                    [--watchers-node-option=... ...]   (the watch phase's watchers' process, experiments)
//                    [--server-from dist|sources]   (dist: the compiled build as `npm start` runs it,
//                                                    built first; sources: server/main.ts through tsx)
//                    [--keep-db <file>]   (the fleet's database is copied there once its server has
//                                          stopped, for re-runs of a start-up without re-seeding)
//
// Phases:
//   1. fleet: generate it and print its shape next to the reference mix;
//   2. sync: register every host with SyncHost, 64 in flight, hosts streamed from the generator;
//   3. rss: the server's resident memory after seeding, and after a 2 s settle;
//   3a. etcd: a throwaway etcd started on loopback, the same fleet registered into it, its time
//      over devcompat's sync time (bench/etcd-phase.ts; skipped without an etcd binary);
//   3b. floor: the same requests to a bare grpc-js server that only decodes each SyncHost
//      (bench/sync-floor.ts), devcompat's sync time over its; then the transport floor, a bare
//      server that decodes nothing (the fastest grpc-js, with devcompat's options, answers them);
//   3c. postgres: a throwaway PostgreSQL cluster (fsync on) and a smaller fleet (--pg-hosts):
//      registration (writers spread over the replicas), CheckCompatibility calls/s and watch
//      latency (a write acknowledged to its event on every replica) for a SQLite server, one
//      replica over PostgreSQL and three, side by side (bench/postgres-phase.ts; skipped
//      without PostgreSQL's binaries);
//   4. check: CheckCompatibility by device names, 64 in flight for a fixed time, against
//      devcompat and against a bare grpc-js server answering a fixed response of a real
//      verdict's size (bench/baseline-server.ts), same client code, same run;
//   5. stream: CheckCompatibilityStream, one stream, batches of 500 checks;
//   6. find: FindTargets for the three sources, sequential queries, time to first message and
//      to the summary;
//   6a. tls: the cost of mutual TLS (certificates made with openssl, the authorization policy
//      on): the same CheckCompatibility and FindTargets load against a second server serving a
//      copy of the fleet's database over TLS, and against the plaintext one; the ratios
//      (bench/tls-cost.ts);
//   6b. placement: FindPlacements for a 3-device VM (two vGPUs and a VF), CreateClaim with 64 in
//      flight, and 8 racing scheduler processes on a hot kind (bench/placement-load.ts);
//   7. watch: 10 unfiltered watchers and 1,000 watchers of one host each (a process of their
//      own, bench/watchers.ts) while syncs change one device each: sync throughput without and
//      with the watchers, event latency (commit to receipt) and server RSS at 200 syncs/s, and
//      the fan-out ceiling of the unfiltered watchers (bench/watch-load.ts);
//   8. lease: a second server with a 5 s lease TTL and 1,000 hosts: 1,000 keepalives/s over
//      KeepAlive streams, then all of them stopped at once and each host's UNREACHABLE change
//      timed against its lease expiry (bench/lease-load.ts);
//   8a. abuse: 2,000 unread FindTargets streams (--abuse-streams) and a probe client (bench/abuse.ts);
//   9. restart: the fleet's server stopped and started again on its database, time until it
//      serves, then its first FindTargets queries with no warm-up (bench/restart.ts).
//  10. agent: the real `devcompat agent` on a 64-device sysfs host, describe time per pass and
//      its RSS (bench/agent.ts).
// The phases run one after the other, never together (etcd, the floor and postgres run after
// the sync, while the seeded devcompat server sits idle). bench/scaling.ts runs sync,rss,restart,find at
// several fleet sizes and prints the growth.
// The fleet is always seeded (the later phases need it); --only picks what is reported. The
// fleet's server runs with a lease TTL of a day (--fleet-lease-ttl), so that no lease lapses
// while the phases run.
// Every load loop is bounded in count and in time.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DevcompatClient } from '../client/client.ts';
import { generateFleet, type FleetSpec } from './fleet.ts';
import { REFERENCE_SHAPE, describeFleet, type FleetShape, type SourceShape } from './fleet-shape.ts';
import {
  captureResponse,
  cpuNote,
  findLoad,
  machine,
  measureChecks,
  pairPool,
  streamLoad,
  encodeSyncRequests,
  syncFleet,
  withCpu,
  type CheckParams,
  type CheckRun,
  type CpuUse,
  type FindRun,
  type StreamRun,
  type SyncResult,
} from './load.ts';
import { prepareServerBuild, REPO_ROOT, readMemory, serverEntryArgs, startChild, type ChildServer, type ServerBuild } from './processes.ts';
import { measureWatch, signed, type WatchResult } from './watch-load.ts';
import { measurePlacement, type PlacementResult } from './placement-load.ts';
import { measureLeases, type LeaseResult } from './lease-load.ts';
import { etcdRows, measureEtcd, type EtcdResult } from './etcd-phase.ts';
import { measurePostgres, postgresRows, postgresTable, type PostgresResult } from './postgres-phase.ts';
import { measureSyncFloor, syncFloorRows } from './sync-floor.ts';
import { measureRestart, restartRows, type RestartResult } from './restart.ts';
import { agentRows, measureAgent, type AgentBenchResult } from './agent.ts';
import { abuseRows, measureAbuse, type AbuseResult } from './abuse.ts';
import { measureTlsCost, tlsCostRows, type TlsCostResult } from './tls-cost.ts';
import { fmt, markdownTable, nowMs, sleep, textTable, type LatencySummary } from './stats.ts';

// ---------------------------------------------------------------------------------------
// Options

const PHASES = ['sync', 'rss', 'etcd', 'floor', 'postgres', 'check', 'stream', 'find', 'placement', 'tls', 'watch', 'lease', 'restart', 'abuse', 'agent'] as const;
type Phase = (typeof PHASES)[number];

interface Options {
  readonly spec: FleetSpec;
  readonly durability: 'full' | 'relaxed';
  readonly only: ReadonlySet<Phase>;
  readonly out: string;
  readonly inFlight: number;
  readonly syncTimeoutS: number;
  readonly checkSeconds: number;
  readonly warmupSeconds: number;
  readonly checkMaxCalls: number;
  readonly streamChecks: number;
  readonly streamBatch: number;
  readonly streamWindow: number;
  readonly streamTimeoutS: number;
  readonly findQueries: number;
  readonly findWarmup: number;
  readonly findLimit: number;
  readonly findTimeoutS: number;
  readonly fleetLeaseTtl: string;
  readonly watch: {
    readonly unfiltered: number;
    readonly hosts: number;
    readonly hostsPerConnection: number;
    readonly syncs: number;
    readonly rounds: number;
    readonly syncTimeoutS: number;
    readonly rate: number;
    readonly seconds: number;
    readonly maxOutstanding: number;
    readonly fanoutWatchers: number;
    readonly fanoutRates: number[];
    readonly fanoutSeconds: number;
    readonly fanoutRefinements: number;
  };
  readonly lease: {
    readonly ttl: string;
    readonly hosts: number;
    readonly rate: number;
    readonly seconds: number;
    readonly streams: number;
    readonly streamsPerConnection: number;
  };
  readonly abuse: { readonly streams: number; readonly holdS: number };
  readonly dbDir: string;
  /** The etcd binary of the etcd phase (found on PATH by default). */
  readonly etcdBin: string;
  readonly postgres: {
    /** The postgres phase's fleet size (PostgreSQL on 2 cores is measured on a smaller fleet). */
    readonly hosts: number;
    readonly replicas: number[];
    readonly watchRate: number;
    readonly watchSeconds: number;
    /** initdb and pg_ctl's folder; found as the PostgreSQL tests find it when undefined. */
    readonly binDir: string | undefined;
  };
  /** When set, the server runs with --cpu-prof and writes its profile to this folder on exit. */
  readonly profile: string | undefined;
  /** Extra options for the server's node (e.g. --max-semi-space-size=32), for experiments. */
  readonly serverNodeOptions: readonly string[];
  /** Extra options for the node of the watch phase's watchers' process, for experiments. */
  readonly watchersNodeOptions: readonly string[];
  /** The server's build: `dist` (compiled, as `npm start` runs it; the default) or `sources` (tsx). */
  readonly serverFrom: ServerBuild;
  /** When set, the fleet's SQLite file is copied there after its server stopped (bench/restart-alone.ts reuses it). */
  readonly keepDb: string | undefined;
}

function parseOptions(): Options {
  const spec = {
    hosts: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    durability: { type: 'string', default: 'full' },
    only: { type: 'string', default: PHASES.join(',') },
    out: { type: 'string', default: 'bench/results/latest.json' },
    'in-flight': { type: 'string', default: '64' },
    'sync-timeout': { type: 'string', default: '300' },
    'check-seconds': { type: 'string', default: '5' },
    'warmup-seconds': { type: 'string', default: '1' },
    'check-max-calls': { type: 'string', default: '2000000' },
    'stream-checks': { type: 'string', default: '200000' },
    'stream-batch': { type: 'string', default: '500' },
    'stream-window': { type: 'string', default: '8' },
    'stream-timeout': { type: 'string', default: '60' },
    'find-queries': { type: 'string', default: '200' },
    'find-warmup': { type: 'string', default: '10' },
    'find-limit': { type: 'string', default: '100' },
    'find-timeout': { type: 'string', default: '60' },
    'fleet-lease-ttl': { type: 'string', default: '1d' },
    'watch-unfiltered': { type: 'string', default: '10' },
    'watch-hosts': { type: 'string', default: '1000' },
    'watch-hosts-per-connection': { type: 'string', default: '1' },
    'watch-syncs': { type: 'string', default: '7500' },
    'watch-rounds': { type: 'string', default: '3' },
    'watch-sync-timeout': { type: 'string', default: '60' },
    'watch-rate': { type: 'string', default: '200' },
    'watch-seconds': { type: 'string', default: '20' },
    'watch-max-outstanding': { type: 'string', default: '1000' },
    'fanout-watchers': { type: 'string', default: '10' },
    'fanout-rates': { type: 'string', default: '200,400,800,1600,3200,6400' },
    'fanout-seconds': { type: 'string', default: '5' },
    'fanout-refinements': { type: 'string', default: '2' },
    'lease-ttl': { type: 'string', default: '5s' },
    'lease-hosts': { type: 'string', default: '1000' },
    'lease-rate': { type: 'string', default: '1000' },
    'lease-seconds': { type: 'string', default: '20' },
    'lease-streams': { type: 'string', default: '1000' },
    'lease-streams-per-connection': { type: 'string', default: '1' },
    'abuse-streams': { type: 'string', default: '2000' },
    'abuse-hold': { type: 'string', default: '10' },
    'db-dir': { type: 'string', default: os.tmpdir() },
    'etcd-bin': { type: 'string', default: 'etcd' },
    'pg-hosts': { type: 'string', default: '1000' },
    'pg-replicas': { type: 'string', default: '1,3' },
    'pg-watch-rate': { type: 'string', default: '50' },
    'pg-watch-seconds': { type: 'string', default: '10' },
    'pg-bin': { type: 'string' },
    profile: { type: 'string' },
    'server-node-option': { type: 'string', multiple: true, default: [] },
    'watchers-node-option': { type: 'string', multiple: true, default: [] },
    'server-from': { type: 'string', default: 'dist' },
    'keep-db': { type: 'string' },
    help: { type: 'boolean', default: false },
  } satisfies NonNullable<ParseArgsConfig['options']>;
  const { values } = parseArgs({ options: spec, strict: true });
  if (values.help) {
    const source = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
    const header = source.slice(0, source.findIndex((line) => !line.startsWith('//')));
    console.log(header.map((line) => line.replace(/^\/\/ ?/, '')).join('\n'));
    console.log('options (defaults):');
    for (const [name, option] of Object.entries(spec)) {
      if (option.type !== 'string') continue;
      const fallback = 'default' in option ? `  (default ${JSON.stringify(option.default)})` : '';
      console.log(`  --${name} <value>${'multiple' in option ? ' (repeatable)' : ''}${fallback}`);
    }
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${values[name]}`);
    return n;
  };
  const num = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${values[name]}`);
    return n;
  };
  if (values.durability !== 'full' && values.durability !== 'relaxed') {
    throw new Error(`--durability must be full or relaxed, got ${values.durability}`);
  }
  const only = new Set<Phase>();
  for (const name of String(values.only).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(PHASES as readonly string[]).includes(name)) throw new Error(`--only: unknown phase ${name} (${PHASES.join(', ')})`);
    only.add(name as Phase);
  }
  const fanoutRates = String(values['fanout-rates']).split(',').map((r) => Number(r.trim()));
  if (fanoutRates.length === 0 || fanoutRates.some((r) => !Number.isFinite(r) || r <= 0)) {
    throw new Error(`--fanout-rates must be a comma-separated list of positive rates, got ${values['fanout-rates']}`);
  }
  const pgReplicas = String(values['pg-replicas']).split(',').map((r) => Number(r.trim()));
  if (pgReplicas.length === 0 || pgReplicas.some((r) => !Number.isSafeInteger(r) || r < 1 || r > 8)) {
    throw new Error(`--pg-replicas must be a comma-separated list of replica counts from 1 to 8, got ${values['pg-replicas']}`);
  }
  const streamBatch = int('stream-batch', 1);
  if (streamBatch > 1000) throw new Error('--stream-batch must be at most 1000 (the server refuses larger messages)');
  return {
    spec: { hosts: int('hosts', 1), seed: int('seed', -(2 ** 31)) },
    durability: values.durability,
    only,
    out: path.resolve(REPO_ROOT, String(values.out)),
    inFlight: int('in-flight', 1),
    syncTimeoutS: num('sync-timeout', 1),
    checkSeconds: num('check-seconds', 0.1),
    warmupSeconds: num('warmup-seconds', 0),
    checkMaxCalls: int('check-max-calls', 1),
    streamChecks: int('stream-checks', 1),
    streamBatch,
    streamWindow: int('stream-window', 1),
    streamTimeoutS: num('stream-timeout', 1),
    findQueries: int('find-queries', 1),
    findWarmup: int('find-warmup', 0),
    findLimit: int('find-limit', 1),
    findTimeoutS: num('find-timeout', 1),
    fleetLeaseTtl: String(values['fleet-lease-ttl']),
    watch: {
      unfiltered: int('watch-unfiltered', 0),
      hosts: int('watch-hosts', 0),
      hostsPerConnection: int('watch-hosts-per-connection', 1),
      syncs: int('watch-syncs', 1),
      rounds: int('watch-rounds', 1),
      syncTimeoutS: num('watch-sync-timeout', 1),
      rate: num('watch-rate', 1),
      seconds: num('watch-seconds', 1),
      maxOutstanding: int('watch-max-outstanding', 1),
      fanoutWatchers: int('fanout-watchers', 1),
      fanoutRates,
      fanoutSeconds: num('fanout-seconds', 1),
      fanoutRefinements: int('fanout-refinements', 0),
    },
    lease: {
      ttl: String(values['lease-ttl']),
      hosts: int('lease-hosts', 1),
      rate: num('lease-rate', 1),
      seconds: num('lease-seconds', 1),
      streams: int('lease-streams', 1),
      streamsPerConnection: int('lease-streams-per-connection', 1),
    },
    abuse: { streams: int('abuse-streams', 1), holdS: num('abuse-hold', 1) },
    dbDir: path.resolve(String(values['db-dir'])),
    etcdBin: String(values['etcd-bin']),
    postgres: {
      hosts: int('pg-hosts', 1),
      replicas: pgReplicas,
      watchRate: num('pg-watch-rate', 1),
      watchSeconds: num('pg-watch-seconds', 1),
      binDir: values['pg-bin'] === undefined ? undefined : path.resolve(values['pg-bin']),
    },
    profile: values.profile === undefined ? undefined : path.resolve(values.profile),
    serverNodeOptions: values['server-node-option'] ?? [],
    watchersNodeOptions: values['watchers-node-option'] ?? [],
    serverFrom: serverFrom(String(values['server-from'])),
    keepDb: values['keep-db'] === undefined ? undefined : path.resolve(values['keep-db']),
  };
}


function serverFrom(value: string): ServerBuild {
  if (value === 'dist' || value === 'sources') return value;
  throw new Error(`--server-from must be dist (the compiled build, as npm start runs it) or sources (tsx), not ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------
// Phase 1: the fleet

const scaleOf = (spec: FleetSpec) => spec.hosts / REFERENCE_SHAPE.hosts;

function printShape(spec: FleetSpec, shape: FleetShape): void {
  const scale = scaleOf(spec);
  const drift = (actual: number, expected: number | undefined) =>
    expected === undefined || expected === 0 ? '' : `${(((actual - expected) / expected) * 100).toFixed(1)}%`;
  const rows: string[][] = [];
  const row = (label: string, actual: number, expected?: number) =>
    rows.push([label, fmt(actual), expected === undefined ? '' : fmt(expected), drift(actual, expected)]);
  row('hosts', shape.hosts, REFERENCE_SHAPE.hosts * scale);
  row('devices', shape.devices, REFERENCE_SHAPE.devices * scale);
  row('distinct descriptors', shape.distinctDescriptors, REFERENCE_SHAPE.distinctDescriptors);
  const reference: Record<string, number> = REFERENCE_SHAPE.devicesPerType;
  for (const [type, n] of Object.entries(reference)) row(`  ${type}`, shape.devicesPerType[type] ?? 0, n * scale);
  for (const [type, n] of Object.entries(shape.devicesPerType)) if (!(type in reference)) row(`  ${type}`, n);
  const source = (s: SourceShape, ref?: { candidates: number; compatible: number }) => {
    const d = s.source.descriptor;
    rows.push([`source ${s.source.id}: ${d.type} ${d.software_version}`, s.source.name, '', '']);
    row('  candidates', s.candidates, ref && ref.candidates * scale);
    row('  compatible (estimate)', s.estimatedCompatible, ref && ref.compatible * scale);
  };
  source(shape.sources.gvtg, REFERENCE_SHAPE.sources.gvtg);
  source(shape.sources.nvidia, REFERENCE_SHAPE.sources.nvidia);
  source(shape.sources.mlx5);
  console.log(textTable(['fleet', 'generated', 'mix', 'drift'], rows));
  console.log('(the mix column is fleet-mix.md scaled to the fleet size; the full shape: npx tsx bench/print-fleet.ts)');
}


// ---------------------------------------------------------------------------------------
// Results

interface RssResult {
  readonly afterSeedBytes: number;
  readonly afterSettleBytes: number;
  /** The server's peak RSS (VmHWM) once the sync had settled. */
  readonly peakBytes: number;
  readonly atEndBytes?: number;
  /** The server's peak RSS over the whole run, read at its end (every phase, the watch phase's connections included). */
  readonly peakAtEndBytes?: number;
  /** The server's peak RSS (VmHWM) read after each of the check, stream and find phases that ran. */
  readonly peakAfter?: Readonly<Record<string, number>>;
}

interface Results {
  command: string;
  startedAt: string;
  machine: ReturnType<typeof machine>;
  /** The machine's 1, 5 and 15 minute load averages when the run started. */
  loadAverageAtStart: number[];
  options: Omit<Options, 'only'> & { only: Phase[] };
  fleet?: FleetShape & { generateMs: number };
  sync?: SyncResult;
  rss?: RssResult;
  check?: {
    devcompat: CheckRun;
    baseline: CheckRun;
    ratio: number;
    fixedResponse: { bytes: number; verdict: string; checks: number; sampleBytes: LatencySummary };
  };
  stream?: StreamRun;
  find?: FindRun[];
  watch?: WatchResult;
  lease?: LeaseResult & { seeding: SyncResult; ttlOption: string };
  etcd?: EtcdResult;
  floor?: SyncResult;
  transportFloor?: SyncResult;
  postgres?: PostgresResult;
  restart?: RestartResult;
  agent?: AgentBenchResult;
  abuse?: AbuseResult;
  tls?: TlsCostResult;
  placement?: PlacementResult & { cpu: CpuUse };
  errors: string[];
}

const MB = 1e6;
const hit = (ok: boolean) => (ok ? 'HIT' : 'MISS');

/** `sync` is the sync phase's result even when the table leaves its own line out (--only). */
function resultRows(r: Results, sync = r.sync): string[][] {
  const rows: string[][] = [];
  if (r.sync) {
    const s = r.sync;
    const complete = s.failures === 0 && !s.timedOut && s.hostsSynced === s.hosts;
    rows.push([
      `SyncHost, ${fmt(s.hosts)} hosts / ${fmt(s.devices)} devices, ${r.options.inFlight} in flight, durability ${r.options.durability}`,
      `${fmt(s.seconds, 2)} s (${fmt(s.syncsPerSecond)} hosts/s, ${fmt(s.devicesPerSecond)} devices/s; p50 ${fmt(s.latencyMs.p50, 1)} ms, p99 ${fmt(s.latencyMs.p99, 1)} ms)${complete ? '' : ` INCOMPLETE: ${s.failures} failed${s.timedOut ? ', timed out' : ''}`}`,
      `< ${fmt(4 * scaleOf(r.options.spec), 2)} s${r.options.spec.hosts === 10_000 ? '' : ' (4 s scaled to the fleet)'}`,
      r.etcd?.skipped === undefined && r.etcd ? `etcd in this run: ${fmt(r.etcd.seconds, 2)} s` : 'etcd 3.4: 6.4-7.5 s (another machine)',
      hit(complete && s.seconds < 4 * scaleOf(r.options.spec)),
      noise(s.cpu),
    ]);
  }
  if (r.rss) {
    const worst = Math.max(r.rss.afterSeedBytes, r.rss.afterSettleBytes);
    rows.push([
      'Server RSS after seeding',
      `${fmt(r.rss.afterSeedBytes / MB)} MB (after 2 s settle ${fmt(r.rss.afterSettleBytes / MB)} MB, peak through the sync ${fmt(r.rss.peakBytes / MB)} MB` +
        (r.rss.peakAtEndBytes === undefined ? ')' : `; over the whole run ${fmt(r.rss.peakAtEndBytes / MB)} MB)`),
      '< 400 MB',
      '',
      hit(worst < 400 * MB),
      '',
    ]);
    const after = Object.entries(r.rss.peakAfter ?? {});
    if (after.length > 0) {
      const [, lastPeak] = after.at(-1)!;
      rows.push([
        `  peak server RSS through the sync and the ${after.map(([phase]) => phase).join(', ')} phases`,
        `${fmt(lastPeak / MB)} MB (${after.map(([phase, bytes]) => `after ${phase} ${fmt(bytes / MB)} MB`).join(', ')})`,
        '< 400 MB',
        '',
        hit(lastPeak < 400 * MB),
        '',
      ]);
    }
  }
  if (r.etcd) rows.push(...etcdRows(r.etcd, sync, r.options.inFlight, noise));
  if (r.floor || r.transportFloor) {
    const etcdSeconds = r.etcd && r.etcd.skipped === undefined ? r.etcd.seconds : undefined;
    rows.push(...syncFloorRows({ decoding: r.floor, transport: r.transportFloor }, sync, etcdSeconds, r.options.inFlight, noise));
  }
  if (r.postgres) {
    rows.push(...postgresRows(r.postgres, { inFlight: r.options.inFlight, checkSeconds: r.options.checkSeconds, watchRate: r.options.postgres.watchRate }, noise));
  }
  if (r.check) {
    const c = r.check;
    rows.push([
      `CheckCompatibility, ${r.options.inFlight} in flight, ${r.options.checkSeconds} s`,
      `${fmt(c.devcompat.callsPerSecond)} calls/s (p50 ${fmt(c.devcompat.latencyMs.p50, 2)} ms, p99 ${fmt(c.devcompat.latencyMs.p99, 2)} ms)`,
      '',
      'etcd 3.4: ~1,000/s',
      '',
      noise(c.devcompat.cpu),
    ]);
    rows.push([
      `  bare grpc-js, fixed ${fmt(c.fixedResponse.bytes)}-byte response`,
      `${fmt(c.baseline.callsPerSecond)} calls/s (p50 ${fmt(c.baseline.latencyMs.p50, 2)} ms, p99 ${fmt(c.baseline.latencyMs.p99, 2)} ms)`,
      '',
      '',
      '',
      noise(c.baseline.cpu),
    ]);
    rows.push(['  devcompat / bare grpc-js', fmt(c.ratio, 2), '>= 0.70', '', hit(c.ratio >= 0.7 && c.devcompat.errors === 0), '']);
  }
  if (r.stream) {
    const s = r.stream;
    rows.push([
      `CheckCompatibilityStream, one stream, ${fmt(s.checks)} checks in batches of ${s.batch}`,
      `${fmt(s.checksPerSecond)} checks/s (batch round trip p50 ${fmt(s.batchLatencyMs.p50, 1)} ms, p99 ${fmt(s.batchLatencyMs.p99, 1)} ms)${s.timedOut ? ' TIMED OUT' : ''}`,
      '>= 50,000 checks/s',
      'the transport alone: 56-69k small messages/s (issue 7)',
      hit(s.checksPerSecond >= 50_000 && s.itemErrors === 0 && !s.timedOut),
      noise(s.cpu),
    ]);
  }
  for (const f of r.find ?? []) {
    rows.push([
      `FindTargets ${f.source} (${fmt(f.summary?.candidates ?? Number.NaN)} candidates, limit ${r.options.findLimit}), ${f.queries} queries`,
      `first p50 ${fmt(f.firstMs.p50, 2)} / p99 ${fmt(f.firstMs.p99, 2)} ms; last p50 ${fmt(f.lastMs.p50, 2)} / p99 ${fmt(f.lastMs.p99, 2)} ms`,
      `last p99 < ${f.targetP99Ms} ms`,
      f.source === 'gvtg-v5_8' ? 'etcd list+filter 2.5-3.5 s; in-process scan ~13 ms' : f.source === 'nvidia-525' ? 'etcd list+filter 2.5-3.5 s; in-process scan ~130 ms' : 'etcd list+filter 2.5-3.5 s',
      hit(f.lastMs.p99 < f.targetP99Ms && !f.timedOut),
      noise(f.cpu),
    ]);
  }
  if (r.tls) {
    const checkParams = { inFlight: r.options.inFlight, maxCalls: r.options.checkMaxCalls, warmupSeconds: r.options.warmupSeconds, seconds: r.options.checkSeconds };
    const findParams = { queries: r.options.findQueries, warmup: r.options.findWarmup, limit: r.options.findLimit, timeoutS: r.options.findTimeoutS };
    rows.push(...tlsCostRows(r.tls, checkParams, findParams, noise));
  }
  if (r.placement) {
    const p = r.placement;
    rows.push([
      `FindPlacements, a 3-device VM (2 x nvidia-525 vGPU + 1 mlx5 VF), ${fmt(p.find.queries)} sequential queries, limit 10 (${fmt(p.find.hostsExamined)} hosts examined, ${fmt(p.find.placements)} take it)`,
      `p50 ${fmt(p.find.ms.p50, 2)} ms, p99 ${fmt(p.find.ms.p99, 2)} ms${p.find.timedOut ? ' TIMED OUT' : ''}`,
      'p99 < 50 ms',
      '',
      hit(p.find.ms.p99 < 50 && !p.find.timedOut),
      noise(p.cpu),
    ]);
    rows.push([
      `CreateClaim, ${p.claims.inFlight} in flight, ${fmt(p.claims.created)} claims on distinct free vGPUs`,
      `${fmt(p.claims.claimsPerSecond)} claims/s (p50 ${fmt(p.claims.ms.p50, 1)} ms, p99 ${fmt(p.claims.ms.p99, 1)} ms)${p.claims.failures ? `; ${p.claims.failures} FAILED` : ''}; released at ${fmt(p.claims.releasesPerSecond)}/s`,
      '',
      '',
      p.claims.failures === 0 && !p.claims.timedOut ? 'OK' : 'MISS',
      noise(p.cpu),
    ]);
    rows.push([
      `CreateClaim race, ${p.race.racers} scheduler processes x ${fmt(p.race.rounds)} rounds on one free mlx5 VF each`,
      `losers (ABORTED) p50 ${fmt(p.race.loserMs.p50, 1)} ms, p99 ${fmt(p.race.loserMs.p99, 1)} ms; winners p50 ${fmt(p.race.winnerMs.p50, 1)} ms, p99 ${fmt(p.race.winnerMs.p99, 1)} ms; ${fmt(p.race.attemptsPerSecond)} attempts/s`,
      'one winner per round',
      '',
      p.race.badRounds === 0 && p.race.otherErrors === 0 && !p.race.timedOut ? 'OK' : `MISS (${p.race.badRounds} bad rounds, ${p.race.otherErrors} other errors)`,
      noise(p.cpu),
    ]);
  }
  if (r.watch) {
    const w = r.watch;
    const paced = w.paced;
    const watchers = `${fmt(paced.watch.unfiltered.watchers)} unfiltered + ${fmt(paced.watch.host.watchers)} host watchers`;
    const latencyRow = (label: string, c: typeof paced.watch.unfiltered) => [
      label,
      `p50 ${fmt(c.latencyMs.p50, 1)} ms, p99 ${fmt(c.latencyMs.p99, 1)} ms (max ${fmt(c.latencyMs.max, 1)} ms; ${fmt(c.inWindow)} messages)${c.failed ? `; ${c.failed} CUT OFF` : ''}`,
      'p99 < 100 ms',
      '',
      hit(c.latencyMs.p99 < 100 && c.failed === 0 && c.inWindow > 0 && paced.caughtUp),
      noise(paced.cpu),
    ];
    rows.push(
      latencyRow(
        `Watch event latency, commit to receipt, unfiltered watchers; ${fmt(paced.writes.targetRate ?? 0)} syncs/s for ${fmt(paced.writes.seconds)} s, ${watchers}`,
        paced.watch.unfiltered,
      ),
    );
    rows.push(latencyRow('  host-filtered watchers (their host\'s revisions only)', paced.watch.host));
    const without = w.pacedWithout;
    rows.push([
      `  syncs during it (${fmt(paced.writes.syncsPerSecond)}/s acknowledged)`,
      `p50 ${fmt(paced.writes.latencyMs.p50, 1)} ms, p99 ${fmt(paced.writes.latencyMs.p99, 1)} ms${paced.writes.failures ? `; ${paced.writes.failures} FAILED` : ''} ` +
        `(without watchers: p50 ${fmt(without.writes.latencyMs.p50, 1)} ms, p99 ${fmt(without.writes.latencyMs.p99, 1)} ms)`,
      '',
      '',
      '',
      '',
    ]);
    rows.push([
      `  server RSS during it (160,000 devices, ${watchers})`,
      `peak ${fmt(paced.rss.peakBytes / MB)} MB (${fmt(paced.rss.idleWatchersBytes / MB)} MB with the watchers idle; the same run without watchers: peak ${fmt(without.rss.peakBytes / MB)} MB)`,
      '',
      '',
      '',
      '',
    ]);
    const t = w.throughput;
    const withRuns = t.runs.filter((run) => run.watchers);
    const withoutRuns = t.runs.filter((run) => !run.watchers);
    const list = (runs: typeof t.runs) => runs.map((run) => fmt(run.syncsPerSecond)).join(', ');
    rows.push([
      `Sync throughput, ${r.options.inFlight} in flight, ${fmt(r.options.watch.syncs)} syncs per run changing one device each: with the watchers / without (medians)`,
      `${fmt(t.withMedian)} / ${fmt(t.withoutMedian)} syncs/s = ${fmt(t.ratio, 2)} (with: ${list(withRuns)}; without: ${list(withoutRuns)})`,
      '>= 0.90 (watchers cost writers < 10%, issue 7)',
      '',
      hit(t.ratio >= 0.9 && t.runs.every((run) => run.failures === 0 && !run.timedOut)),
      noise(sumCpu(t.runs.map((run) => run.cpu))),
    ]);
    const perSync = t.cpuPerSync;
    if (perSync) {
      rows.push([
        '  CPU per sync in the same runs: the server with the watchers / without (medians)',
        `${fmt(perSync.serverWith)} / ${fmt(perSync.serverWithout)} µs = ${fmt(perSync.serverWithout / perSync.serverWith, 2)}; the watchers add ${signed(perSync.serverAddedMedian)} µs per revision ` +
          `(paired: ${perSync.serverAddedPaired.map(signed).join(', ')}); the watchers' process ${fmt(perSync.watchersProcess)} µs per revision; ` +
          `server + load generator + watchers ${fmt(perSync.allWith)} / ${fmt(perSync.allWithout)} µs; server busy ${fmt(perSync.serverBusyWith * 100)}% / ${fmt(perSync.serverBusyWithout * 100)}% of a core`,
        '',
        '',
        '',
        '',
      ]);
    }
    const f = w.fanout;
    const c = f.ceiling;
    rows.push([
      `Fan-out ceiling, ${fmt(f.watchers)} unfiltered watchers, rates tried ${f.steps.map((s) => fmt(s.rate)).join(', ')} syncs/s`,
      c
        ? `${fmt(c.eventsPerSecond)} events/s (${fmt(c.writes.syncsPerSecond)} syncs/s, p99 ${fmt(c.watch.unfiltered.latencyMs.p99, 1)} ms); stopped: ${f.stoppedBecause}`
        : `none: ${f.stoppedBecause}`,
      'p99 < 1 s',
      '',
      '',
      noise(c?.cpu),
    ]);
  }
  if (r.lease) {
    const l = r.lease;
    const s = l.sustained;
    const ttl = `TTL ${fmt(l.ttlMs / 1000, 1)} s`;
    rows.push([
      `KeepAlive, ${fmt(l.hosts)} hosts, ${fmt(l.streams)} streams on ${fmt(l.connections)} connections, ${fmt(s.targetRate)}/s paced for ${fmt(r.options.lease.seconds)} s (${ttl})`,
      `${fmt(s.answersPerSecond)}/s answered (p50 ${fmt(s.latencyMs.p50, 2)} ms, p99 ${fmt(s.latencyMs.p99, 2)} ms); ${s.unreachableEvents} hosts UNREACHABLE, ${s.notReady} answers not READY, ${s.errors} errors`,
      `${fmt(s.targetRate)}/s sustained, no host UNREACHABLE`,
      '',
      hit(s.answersPerSecond >= 0.99 * s.targetRate && s.skipped === 0 && s.errors === 0 && s.notReady === 0 && s.unreachableEvents === 0),
      noise(s.cpu),
    ]);
    const e = l.expiry;
    rows.push([
      `Lease expiry, ${fmt(l.hosts)} hosts' keepalives stopped at once (leases lapse within ${fmt(l.stop.expirySpreadMs)} ms), ${ttl}`,
      `${fmt(e.recorded)} of ${fmt(l.hosts)} UNREACHABLE changes received, after the lease expiry: p50 ${fmt(e.latenessMs.p50)} ms, p99 ${fmt(e.latenessMs.p99)} ms, max ${fmt(e.latenessMs.max)} ms`,
      `all within one TTL (${fmt(l.ttlMs)} ms)`,
      '',
      hit(e.recorded === l.hosts && e.withinTtl === l.hosts),
      '',
    ]);
  }
  if (r.restart) rows.push(...restartRows(r.restart, r.options.spec.hosts, r.options.findLimit, noise));
  if (r.agent) rows.push(...agentRows(r.agent));
  if (r.abuse) rows.push(...abuseRows(r.abuse, r.options.spec.hosts, hit));
  return rows;
}

function sumCpu(uses: readonly (CpuUse | undefined)[]): CpuUse | undefined {
  const all = uses.filter((u): u is CpuUse => u !== undefined);
  if (all.length === 0) return undefined;
  const sum = (pick: (u: CpuUse) => number) => all.reduce((total, u) => total + pick(u), 0);
  return { serverCpuS: sum((u) => u.serverCpuS), clientCpuS: sum((u) => u.clientCpuS), otherCpuS: sum((u) => u.otherCpuS), wallS: sum((u) => u.wallS) };
}

const HEADER = ['benchmark', 'measured', 'target', 'for comparison (from the issue)', 'result', 'noise'];

/** CPU that other processes of the machine used during a measurement, in % of one core. */
const NOISY_SHARE = 0.25;
function noise(cpu: CpuUse | undefined): string {
  if (!cpu) return '';
  const share = cpu.otherCpuS / cpu.wallS;
  return `${fmt(share * 100)}%${share > NOISY_SHARE ? ' NOISY' : ''}`;
}

// ---------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(`${(error as Error).message} (npm run bench -- --help lists the options)`);
    return 2;
  }
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const results: Results = {
    command,
    startedAt: new Date().toISOString(),
    machine: machine(options.dbDir),
    loadAverageAtStart: os.loadavg(),
    options: { ...options, only: [...options.only] },
    errors: [],
  };
  const m = results.machine;
  console.log(`devcompat benchmark: ${command}`);
  console.log(`machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, node ${m.node}, ${m.platform}; database on ${m.dbFilesystem || '?'} (${options.dbDir})`);
  console.log(`load average at start: ${results.loadAverageAtStart.map((l) => l.toFixed(2)).join(', ')} (1, 5, 15 min)`);
  console.log(`code: commit ${m.source.commit}${m.source.dirty ? ' with uncommitted changes in server/, client/, proto/ or migrations/' : ''}`);
  try {
    prepareServerBuild(options.serverFrom);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }

  // 1. Fleet
  console.log(`\n== 1. fleet: ${fmt(options.spec.hosts)} hosts, seed ${options.spec.seed}`);
  const t0 = nowMs();
  let generated = 0;
  for (const host of generateFleet(options.spec)) generated += host.devices.length;
  const generateMs = nowMs() - t0;
  const shape = describeFleet(generateFleet(options.spec));
  results.fleet = { ...shape, generateMs };
  printShape(options.spec, shape);
  console.log(`generated ${fmt(generated)} devices in ${fmt(generateMs)} ms`);

  const dir = mkdtempSync(path.join(options.dbDir, 'devcompat-bench-'));
  let server: ChildServer | undefined;
  let baseline: ChildServer | undefined;
  let leaseServer: ChildServer | undefined;
  const clients: DevcompatClient[] = [];
  const cleanup = async () => {
    for (const client of clients) client.close();
    clients.length = 0;
    const stops = [server, baseline, leaseServer].filter((s): s is ChildServer => s !== undefined).map(async (child) => {
      const how = await child.stop();
      if (how !== 'exit code 0') console.log(`${child.name} stopped: ${how}`);
    });
    server = baseline = leaseServer = undefined;
    await Promise.all(stops);
    // The server stopped gracefully: its WAL is checkpointed into bench.db; its head anchor
    // (bench.db.head) goes along, or the copy would be refused as a database whose anchor is lost.
    if (options.keepDb) {
      copyFileSync(path.join(dir, 'bench.db'), options.keepDb);
      copyFileSync(path.join(dir, 'bench.db.head'), `${options.keepDb}.head`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const interrupted = () => {
    console.log('\ninterrupted: stopping the servers');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    const serverArgs = [
      ...serverEntryArgs([...(options.profile ? ['--cpu-prof', '--cpu-prof-dir', options.profile] : []), ...options.serverNodeOptions]),
      ...['--db', path.join(dir, 'bench.db'), '--address', '127.0.0.1:0'],
      ...['--durability', options.durability, '--lease-ttl', options.fleetLeaseTtl, '--log-level', 'info'],
    ];
    server = await startChild({ name: 'devcompat server', args: serverArgs, readyMsg: 'devcompat serving' });
    console.log(`\ndevcompat server pid ${server.pid} at ${server.address} (durability ${options.durability}, lease TTL ${options.fleetLeaseTtl}, db ${dir})`);
    const idle = readMemory(server.pid);
    if (idle) console.log(`server RSS before seeding: ${fmt(idle.rssBytes / MB)} MB`);
    const client = new DevcompatClient({ address: server.address, actor: 'bench' });
    clients.push(client);
    const pid = server.pid;
    const serverAddress = server.address;

    // 2. Sync
    console.log(`\n== 2. sync: ${fmt(options.spec.hosts)} hosts, ${options.inFlight} in flight`);
    const encoded = encodeSyncRequests(options.spec);
    console.log(`encoded ${fmt(encoded.length)} SyncHost requests (${fmt(encoded.reduce((sum, e) => sum + e.bytes.length, 0) / MB, 1)} MB) before the clock starts`);
    const sync = await withCpu(pid, () =>
      syncFleet(serverAddress, encoded, {
        hosts: options.spec.hosts,
        inFlight: options.inFlight,
        timeoutS: options.syncTimeoutS,
        progress: console.log,
      }),
    );
    results.sync = { ...sync.value, cpu: sync.cpu };
    const s = results.sync;
    console.log(
      `synced ${fmt(s.hostsSynced)} hosts / ${fmt(s.devices)} devices (${fmt(s.devicesCreated)} created) in ${fmt(s.seconds, 2)} s: ` +
        `${fmt(s.syncsPerSecond)} hosts/s, ${fmt(s.devicesPerSecond)} devices/s; latency p50 ${fmt(s.latencyMs.p50, 1)} ms, p99 ${fmt(s.latencyMs.p99, 1)} ms`,
    );
    console.log(cpuNote(sync.cpu));
    if (s.failures > 0 || s.timedOut) {
      throw new Error(`sync incomplete: ${s.failures} failures${s.timedOut ? ', timed out' : ''}; first: ${s.firstError}`);
    }
    if (s.devicesCreated !== s.devices) throw new Error(`the server created ${s.devicesCreated} devices for ${s.devices} sent`);

    // 3. RSS
    const afterSeed = readMemory(pid);
    await sleep(2000);
    const afterSettle = readMemory(pid);
    if (afterSeed && afterSettle) {
      results.rss = { afterSeedBytes: afterSeed.rssBytes, afterSettleBytes: afterSettle.rssBytes, peakBytes: afterSettle.hwmBytes };
      console.log(
        `\n== 3. server RSS after seeding: ${fmt(afterSeed.rssBytes / MB)} MB; after a 2 s settle ${fmt(afterSettle.rssBytes / MB)} MB; peak so far ${fmt(afterSettle.hwmBytes / MB)} MB`,
      );
    }

    // 3a. etcd, 3b. the sync floor: after the sync, one after the other
    if (options.only.has('etcd')) {
      console.log(`\n== 3a. etcd: the same ${fmt(options.spec.hosts)} hosts, one transaction of 16 puts per host, ${options.inFlight} in flight`);
      results.etcd = await measureEtcd({
        binary: options.etcdBin,
        spec: options.spec,
        dataDir: path.join(dir, 'etcd'),
        inFlight: options.inFlight,
        timeoutS: options.syncTimeoutS,
        log: console.log,
      });
      const e = results.etcd;
      if (e.skipped === undefined) {
        console.log(
          `etcd: ${fmt(e.txnsCommitted)} transactions / ${fmt(e.puts)} puts in ${fmt(e.seconds, 2)} s (${fmt(e.txnsPerSecond)} hosts/s); ` +
            `p50 ${fmt(e.latencyMs.p50, 1)} ms, p99 ${fmt(e.latencyMs.p99, 1)} ms; ${e.failures} failures; ${fmt(e.keysStored)} keys stored; etcd RSS ${fmt((e.rssBytes ?? Number.NaN) / MB)} MB`,
        );
        console.log(`  ${cpuNote(e.cpu)}`);
        console.log(`registration: etcd ${fmt(e.seconds, 2)} s, devcompat ${fmt(s.seconds, 2)} s: etcd / devcompat = ${fmt(e.seconds / s.seconds, 2)} (target >= 2)`);
      }
    }
    if (options.only.has('floor')) {
      console.log(`\n== 3b. sync floor: the same ${fmt(encoded.length)} requests to a bare grpc-js server that only decodes them, ${options.inFlight} in flight`);
      const floor = await measureSyncFloor({ encoded, inFlight: options.inFlight, timeoutS: options.syncTimeoutS, decode: 'proto-loader' });
      results.floor = floor;
      console.log(`floor: ${fmt(floor.seconds, 2)} s (${fmt(floor.syncsPerSecond)} hosts/s); p50 ${fmt(floor.latencyMs.p50, 1)} ms, p99 ${fmt(floor.latencyMs.p99, 1)} ms`);
      console.log(`  ${cpuNote(floor.cpu!)}`);
      console.log(`sync: devcompat ${fmt(s.seconds, 2)} s, floor ${fmt(floor.seconds, 2)} s: devcompat / floor = ${fmt(s.seconds / floor.seconds, 2)}`);
      console.log(`\n== 3b'. transport floor: the same requests to a bare grpc-js server that decodes nothing and answers one pre-encoded response`);
      const transport = await measureSyncFloor({ encoded, inFlight: options.inFlight, timeoutS: options.syncTimeoutS, decode: 'none' });
      results.transportFloor = transport;
      console.log(`transport floor: ${fmt(transport.seconds, 2)} s (${fmt(transport.syncsPerSecond)} hosts/s); p50 ${fmt(transport.latencyMs.p50, 1)} ms, p99 ${fmt(transport.latencyMs.p99, 1)} ms`);
      console.log(`  ${cpuNote(transport.cpu!)}`);
    }

    // 3c. PostgreSQL: SQLite, one replica and three, on a fleet of their own
    if (options.only.has('postgres')) {
      const pg = options.postgres;
      console.log(
        `\n== 3c. postgres: ${fmt(pg.hosts)} hosts into SQLite and into PostgreSQL with ${pg.replicas.join(' and ')} replicas; ` +
          `CheckCompatibility ${options.inFlight} in flight ${options.checkSeconds} s; watch at ${fmt(pg.watchRate)} syncs/s for ${fmt(pg.watchSeconds)} s`,
      );
      const result = await measurePostgres({
        spec: { hosts: pg.hosts, seed: options.spec.seed },
        binDir: pg.binDir,
        workDir: dir,
        replicas: pg.replicas,
        durability: options.durability,
        leaseTtl: options.fleetLeaseTtl,
        serverNodeOptions: options.serverNodeOptions,
        inFlight: options.inFlight,
        syncTimeoutS: options.syncTimeoutS,
        check: { inFlight: options.inFlight, maxCalls: options.checkMaxCalls, warmupSeconds: options.warmupSeconds, seconds: options.checkSeconds },
        watch: { rate: pg.watchRate, seconds: pg.watchSeconds, maxOutstanding: 1000 },
        log: console.log,
      });
      results.postgres = result;
      if (result.skipped === undefined) console.log(`\n${postgresTable(result)}`);
    }

    // The peak RSS is monotonic (VmHWM): read after each phase, it says which phase raised it.
    const notePeak = (phase: 'check' | 'stream' | 'find'): void => {
      if (!options.only.has(phase) || !results.rss) return;
      const memory = readMemory(pid);
      if (!memory) return;
      results.rss = { ...results.rss, peakAfter: { ...results.rss.peakAfter, [phase]: memory.hwmBytes } };
      console.log(`server RSS after the ${phase} phase: ${fmt(memory.rssBytes / MB)} MB (peak so far ${fmt(memory.hwmBytes / MB)} MB)`);
    };

    // 4. CheckCompatibility
    const pairs = options.only.has('check') || options.only.has('stream') || options.only.has('tls') ? pairPool(options.spec, 20_000, options.spec.seed) : [];
    if (options.only.has('check')) {
      console.log(`\n== 4. CheckCompatibility: ${options.inFlight} in flight, ${options.warmupSeconds} s warm-up + ${options.checkSeconds} s, devcompat then bare grpc-js`);
      const captured = await captureResponse(client, pairs, 501);
      const responseFile = path.join(dir, 'baseline-response.json');
      writeFileSync(responseFile, JSON.stringify(captured.response));
      console.log(
        `baseline answers a ${captured.verdict} verdict with ${captured.checks} checks: ${captured.bytes} bytes encoded ` +
          `(real responses: p50 ${captured.sampleBytes.p50}, min ${captured.sampleBytes.min}, max ${captured.sampleBytes.max} bytes)`,
      );
      baseline = await startChild({
        name: 'baseline server',
        args: ['--import', 'tsx', 'bench/baseline-server.ts', '--address', '127.0.0.1:0', '--response', responseFile],
        readyMsg: 'baseline serving',
      });
      const baselineClient = new DevcompatClient({ address: baseline.address, actor: 'bench' });
      clients.push(baselineClient);

      const checkParams: CheckParams = {
        inFlight: options.inFlight,
        maxCalls: options.checkMaxCalls,
        warmupSeconds: options.warmupSeconds,
        seconds: options.checkSeconds,
      };
      const devcompatRun = await measureChecks(client, pid, pairs, checkParams);
      console.log(
        `devcompat:    ${fmt(devcompatRun.callsPerSecond)} calls/s; p50 ${fmt(devcompatRun.latencyMs.p50, 2)} ms, p99 ${fmt(devcompatRun.latencyMs.p99, 2)} ms; ` +
          `${devcompatRun.errors} errors; verdicts ${JSON.stringify(devcompatRun.verdicts)}`,
      );
      console.log(`  ${cpuNote(devcompatRun.cpu!)}`);
      const baselineRun = await measureChecks(baselineClient, baseline.pid, pairs, checkParams);
      console.log(
        `bare grpc-js: ${fmt(baselineRun.callsPerSecond)} calls/s; p50 ${fmt(baselineRun.latencyMs.p50, 2)} ms, p99 ${fmt(baselineRun.latencyMs.p99, 2)} ms; ${baselineRun.errors} errors`,
      );
      console.log(`  ${cpuNote(baselineRun.cpu!)}`);
      const ratio = devcompatRun.callsPerSecond / baselineRun.callsPerSecond;
      console.log(`ratio devcompat / bare grpc-js: ${fmt(ratio, 2)}`);
      results.check = {
        devcompat: devcompatRun,
        baseline: baselineRun,
        ratio,
        fixedResponse: { bytes: captured.bytes, verdict: captured.verdict, checks: captured.checks, sampleBytes: captured.sampleBytes },
      };
      baselineClient.close();
      clients.splice(clients.indexOf(baselineClient), 1);
      await baseline.stop();
      baseline = undefined;
    }

    notePeak('check');

    // 5. CheckCompatibilityStream
    if (options.only.has('stream')) {
      console.log(`\n== 5. CheckCompatibilityStream: one stream, ${fmt(options.streamChecks)} checks, batches of ${options.streamBatch}, at most ${options.streamWindow} batches in flight`);
      // A short warm-up stream, then the measured one.
      const streamParams = { batch: options.streamBatch, window: options.streamWindow, timeoutS: options.streamTimeoutS };
      await streamLoad(client, pairs, Math.min(options.streamChecks, 20_000), streamParams);
      const run = await withCpu(pid, () => streamLoad(client, pairs, options.streamChecks, streamParams));
      results.stream = { ...run.value, cpu: run.cpu };
      const st = results.stream;
      console.log(
        `${fmt(st.checks)} checks in ${fmt(st.seconds, 2)} s: ${fmt(st.checksPerSecond)} checks/s; batch round trip p50 ${fmt(st.batchLatencyMs.p50, 1)} ms, ` +
          `p99 ${fmt(st.batchLatencyMs.p99, 1)} ms; ${st.itemErrors} item errors; verdicts ${JSON.stringify(st.verdicts)}`,
      );
      console.log(`  ${cpuNote(run.cpu)}`);
    }

    notePeak('stream');

    // 6. FindTargets
    if (options.only.has('find')) {
      console.log(`\n== 6. FindTargets: ${options.findWarmup} warm-up + ${options.findQueries} sequential queries per source, limit ${options.findLimit}`);
      results.find = [];
      const targets: [SourceShape, number][] = [
        [shape.sources.gvtg, 25],
        [shape.sources.nvidia, 50],
        [shape.sources.mlx5, 50],
      ];
      for (const [sourceShape, targetP99] of targets) {
        const findParams = { queries: options.findQueries, warmup: options.findWarmup, limit: options.findLimit, timeoutS: options.findTimeoutS };
        const run = await withCpu(pid, () => findLoad(client, sourceShape, targetP99, findParams));
        const f = { ...run.value, cpu: run.cpu };
        results.find.push(f);
        console.log(
          `${f.source} (${f.type}, ${f.name}): server says ${fmt(f.summary?.candidates ?? Number.NaN)} candidates ` +
            `(fleet: ${fmt(f.fleetCandidates)}), ${fmt(f.summary?.compatible ?? Number.NaN)} compatible (fleet estimate: ${fmt(f.fleetCompatibleEstimate)}), ` +
            `${fmt(f.summary?.rejected ?? Number.NaN)} rejected, ${f.summary?.distinct_descriptors ?? '?'} distinct descriptors; ${f.targetsPerQuery} targets streamed`,
        );
        console.log(
          `  time to first message p50 ${fmt(f.firstMs.p50, 2)} ms, p99 ${fmt(f.firstMs.p99, 2)} ms; to last (summary) p50 ${fmt(f.lastMs.p50, 2)} ms, ` +
            `p99 ${fmt(f.lastMs.p99, 2)} ms, max ${fmt(f.lastMs.max, 2)} ms; ${cpuNote(f.cpu)}`,
        );
      }
    }

    notePeak('find');

    // 6a. The cost of TLS: a second server on a copy of the fleet's database, over mutual TLS
    if (options.only.has('tls')) {
      console.log(
        `\n== 6a. tls: CheckCompatibility (${options.inFlight} in flight, ${options.warmupSeconds} s warm-up + ${options.checkSeconds} s) and FindTargets ` +
          `(${options.findWarmup} + ${options.findQueries} queries per source), plaintext then mutual TLS`,
      );
      results.tls = await measureTlsCost({
        plain: { client, pid },
        dbPath: path.join(dir, 'bench.db'),
        workDir: dir,
        serverNodeOptions: options.serverNodeOptions,
        durability: options.durability,
        pairs,
        check: { inFlight: options.inFlight, maxCalls: options.checkMaxCalls, warmupSeconds: options.warmupSeconds, seconds: options.checkSeconds },
        sources: [shape.sources.gvtg, shape.sources.nvidia, shape.sources.mlx5],
        find: { queries: options.findQueries, warmup: options.findWarmup, limit: options.findLimit, timeoutS: options.findTimeoutS },
        log: console.log,
      });
      console.log(`mutual TLS / plaintext: CheckCompatibility ${fmt(results.tls.check.ratio, 2)}, FindTargets ${fmt(results.tls.find.ratio, 2)}`);
    }

    // 6b. Placement and claims
    if (options.only.has('placement')) {
      console.log('\n== 6b. placement: FindPlacements for 2 vGPUs + 1 VF, CreateClaim with 64 in flight, 8 racing scheduler processes');
      const run = await withCpu(pid, () =>
        measurePlacement({
          address: serverAddress,
          gpuSource: shape.sources.nvidia.source.name,
          nicSource: shape.sources.mlx5.source.name,
          queries: 200,
          warmup: 20,
          claims: 2000,
          inFlight: options.inFlight,
          racers: 8,
          rounds: 100,
          timeoutS: 300,
          log: console.log,
        }),
      );
      results.placement = { ...run.value, cpu: run.cpu };
    }

    // 7. Watch
    if (options.only.has('watch')) {
      const w = options.watch;
      console.log(
        `\n== 7. watch: ${w.unfiltered} unfiltered and ${fmt(w.hosts)} host-filtered watchers (a process of their own), syncs changing one device each`,
      );
      results.watch = await measureWatch(
        {
          address: serverAddress,
          serverPid: pid,
          encoded,
          spec: options.spec,
          unfilteredWatchers: w.unfiltered,
          hostWatchers: w.hosts,
          hostWatchersPerConnection: w.hostsPerConnection,
          inFlight: options.inFlight,
          closedSyncs: w.syncs,
          closedRounds: w.rounds,
          closedTimeoutS: w.syncTimeoutS,
          rate: w.rate,
          seconds: w.seconds,
          maxOutstanding: w.maxOutstanding,
          fanoutWatchers: w.fanoutWatchers,
          fanoutRates: w.fanoutRates,
          fanoutStepSeconds: w.fanoutSeconds,
          fanoutP99LimitMs: 1000,
          fanoutRefinements: w.fanoutRefinements,
          log: console.log,
          profileDir: options.profile,
          watchersNodeOptions: options.watchersNodeOptions,
        },
        cpuNote,
      );
    }

    // 8. Leases, on a server of their own with a short TTL
    if (options.only.has('lease')) {
      const l = options.lease;
      if (l.hosts > encoded.length) throw new Error(`--lease-hosts ${l.hosts} is more than the fleet's ${encoded.length} hosts`);
      console.log(`\n== 8. lease: a second server with --lease-ttl ${l.ttl}, ${fmt(l.hosts)} hosts of the fleet`);
      leaseServer = await startChild({
        name: 'lease server',
        args: [
          ...serverEntryArgs(options.serverNodeOptions), ...['--db', path.join(dir, 'lease.db'), '--address', '127.0.0.1:0'],
          ...['--durability', options.durability, '--lease-ttl', l.ttl, '--log-level', 'info'],
        ],
        readyMsg: 'devcompat serving',
      });
      const seeding = await syncFleet(leaseServer.address, encoded.slice(0, l.hosts), {
        hosts: l.hosts,
        inFlight: options.inFlight,
        timeoutS: options.syncTimeoutS,
      });
      if (seeding.failures > 0 || seeding.timedOut) throw new Error(`lease server seeding failed: ${seeding.firstError ?? 'timed out'}`);
      console.log(`lease server pid ${leaseServer.pid} at ${leaseServer.address}: ${fmt(seeding.hostsSynced)} hosts synced in ${fmt(seeding.seconds, 2)} s`);
      const lease = await measureLeases(
        {
          address: leaseServer.address,
          serverPid: leaseServer.pid,
          hostIds: encoded.slice(0, l.hosts).map((e) => e.hostId),
          rate: l.rate,
          seconds: l.seconds,
          streams: l.streams,
          streamsPerConnection: l.streamsPerConnection,
          maxOutstanding: 10_000,
          log: console.log,
        },
        cpuNote,
      );
      results.lease = { ...lease, seeding, ttlOption: l.ttl };
      if (leaseServer.warnings() > 0) console.log(`the lease server logged ${leaseServer.warnings()} warnings or errors; last lines:\n${leaseServer.tail().join('\n')}`);
      const how = await leaseServer.stop();
      if (how !== 'exit code 0') console.log(`lease server stopped: ${how}`);
      leaseServer = undefined;
    }

    // 10. The host agent, on a registry of its own
    if (options.only.has('agent')) {
      console.log('\n== 10. agent: a 64-device host, the real agent process, 100 passes');
      results.agent = await measureAgent(console.log);
    }

    const end = readMemory(pid);
    if (results.rss && end) {
      results.rss = { ...results.rss, atEndBytes: end.rssBytes, peakAtEndBytes: end.hwmBytes };
      console.log(`\nserver RSS at the end: ${fmt(end.rssBytes / MB)} MB (peak ${fmt(end.hwmBytes / MB)} MB)`);
    }
    if (server.warnings() > 0) console.log(`the server logged ${server.warnings()} warnings or errors; last lines:\n${server.tail().join('\n')}`);

    // 8a. Abuse: unread FindTargets streams against the fleet's server (bench/abuse.ts)
    if (options.only.has('abuse')) {
      console.log(`\n== 8a. abuse: ${fmt(options.abuse.streams)} FindTargets streams that are never read, and a probe client`);
      const biggest = [shape.sources.gvtg, shape.sources.nvidia, shape.sources.mlx5].reduce((a, b) => (b.candidates > a.candidates ? b : a));
      results.abuse = await measureAbuse({
        address: serverAddress,
        serverPid: pid,
        source: biggest.source.name,
        probeHost: `hosts/${encoded[0].hostId}`,
        streams: options.abuse.streams,
        perConnection: 100,
        holdS: options.abuse.holdS,
        fallBackS: 30,
        log: console.log,
      });
    }

    // 9. Restart on the fleet's database
    if (options.only.has('restart')) {
      console.log(`\n== 9. restart: the fleet's server stopped and started again on its database, then ${options.findQueries} FindTargets per source with no warm-up`);
      for (const c of clients) c.close();
      clients.length = 0;
      const old = server;
      server = undefined;
      const restart = await measureRestart({
        server: old,
        args: serverArgs,
        probeHost: `hosts/${encoded[0].hostId}`,
        sources: [
          [shape.sources.gvtg, 25],
          [shape.sources.nvidia, 50],
          [shape.sources.mlx5, 50],
        ],
        findQueries: Math.min(options.findQueries, 100),
        findLimit: options.findLimit,
        findTimeoutS: options.findTimeoutS,
      });
      server = restart.server;
      const r = (results.restart = restart.result);
      console.log(
        `old server stopped in ${fmt(r.stopMs / 1000, 2)} s (${r.stoppedHow}); new one serving after ${fmt(r.readyMs / 1000, 2)} s, first GetHost answered after ${fmt(r.firstAnswerMs / 1000, 2)} s; ` +
          `RSS ${fmt((r.rssBytes ?? Number.NaN) / MB)} MB; a bare grpc-js server (node, tsx, the proto) starts in ${fmt(r.bareStartMs / 1000, 2)} s`,
      );
      if (r.cpu) console.log(`  ${cpuNote(r.cpu)}`);
      for (const f of r.findAfterStart) {
        console.log(`  ${f.source}: first ${f.queries} queries, last p50 ${fmt(f.lastMs.p50, 2)} ms, p99 ${fmt(f.lastMs.p99, 2)} ms, max ${fmt(f.lastMs.max, 2)} ms`);
      }
    }
  } catch (error) {
    results.errors.push((error as Error).stack ?? String(error));
    console.error(`\nbenchmark failed: ${(error as Error).stack ?? error}`);
    if (server) console.error(`server's last lines:\n${server.tail().join('\n')}`);
  } finally {
    await cleanup();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }

  // Results
  const only = options.only;
  const reported: Results = {
    ...results,
    sync: only.has('sync') ? results.sync : undefined,
    rss: only.has('rss') ? results.rss : undefined,
  };
  const rows = resultRows(reported, results.sync);
  console.log(`\n== results (${command})\n`);
  console.log(textTable(HEADER, rows, ['l', 'l', 'l', 'l', 'l', 'r']));
  console.log(
    `noise: CPU used by other processes of the machine during each measurement, in % of one core (of ${results.machine.cpus});` +
      ` NOISY above ${NOISY_SHARE * 100}%: rerun on a quiet machine before trusting that line.`,
  );
  console.log(`\nas Markdown:\n\n${markdownTable(HEADER, rows)}`);
  mkdirSync(path.dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  const outName = path.relative(REPO_ROOT, options.out);
  console.log(`\nraw results: ${outName.startsWith('..') ? options.out : outName}; the benchmark took ${fmt((nowMs() - t0) / 1000)} s`);
  return results.errors.length > 0 ? 1 : 0;
}

process.exitCode = await main();
