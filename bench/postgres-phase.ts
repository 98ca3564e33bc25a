// The postgres phase of the benchmark (`--only postgres`): the registry over PostgreSQL with one
// and with three replicas, next to a single SQLite server, on the same fleet in the same run.
// A throwaway PostgreSQL cluster is made on loopback (test/helpers/postgres-cluster.ts, the
// one the PostgreSQL tests use) with fsync, full_page_writes and synchronous_commit on, so that
// an acknowledged write is on disk as with SQLite's durability `full`; then, for SQLite, for
// one replica and for three (real server processes, the compiled build like the other phases, on 127.0.0.1:0, a fresh database
// each), it measures:
//   - registration of the fleet: every host's SyncHost, `inFlight` at a time, host i through
//     replica i mod n; then how long until every replica reflects the last revision;
//   - CheckCompatibility by device names, `inFlight` loops spread over the replicas, for a
//     fixed time bounded by a call count (bench/load.ts);
//   - watch latency: paced syncs spread over the replicas, one watcher per replica,
//     acknowledgement to receipt (bench/replica-watch.ts).
// The fleet is smaller than the SQLite phases' (--pg-hosts): on 2 shared cores, writes over
// PostgreSQL cost round trips and a server of their own. Without PostgreSQL's binaries the
// phase says so and is skipped. The servers and the cluster are stopped and removed whatever
// happens. The CPU of PostgreSQL's processes is counted as the system's, not as noise.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DevcompatClient } from '../client/client.ts';
import { loadServices } from '../proto/load.ts';
import { MIN_REVISION_METADATA_KEY } from '../proto/wire.ts';
import { PostgresCluster, postgresBinDir, postgresMissing } from '../test/helpers/postgres-cluster.ts';
import type { FleetSpec } from './fleet.ts';
import { encodeSyncRequests, measureChecks, pairPool, syncFleet, withCpu, type CheckParams, type CheckRun, type CpuUse, type PidLister, type SyncResult } from './load.ts';
import { readMemory, serverEntryArgs, startChild, withChildPids, type ChildServer } from './processes.ts';
import { measureReplicaWatch, type ReplicaWatchRun } from './replica-watch.ts';
import { fmt, nowMs, textTable } from './stats.ts';
import { DeviceChurn } from './watch-load.ts';

export interface PostgresParams {
  /** The fleet of this phase (--pg-hosts), registered into each store. */
  readonly spec: FleetSpec;
  /** Where initdb and pg_ctl are; found as the PostgreSQL tests find them by default. */
  readonly binDir?: string;
  /** A folder of the bench's temporary directory, for the SQLite server's database. */
  readonly workDir: string;
  /** Replica counts over PostgreSQL, in order (the issue asks for 1 and 3). */
  readonly replicas: readonly number[];
  readonly durability: 'full' | 'relaxed';
  readonly leaseTtl: string;
  readonly serverNodeOptions: readonly string[];
  readonly inFlight: number;
  readonly syncTimeoutS: number;
  readonly check: CheckParams;
  readonly watch: { readonly rate: number; readonly seconds: number; readonly maxOutstanding: number };
  readonly log: (line: string) => void;
}

export interface StoreRun {
  /** 'SQLite', 'PostgreSQL x1', 'PostgreSQL x3'. */
  readonly label: string;
  readonly replicas: number;
  readonly registration: SyncResult & { cpu: CpuUse };
  /** After the last registration answer, until every replica reflected its revision. */
  readonly caughtUpMs: number;
  /** Each replica's resident memory after the registration. */
  readonly rssBytes: number[];
  readonly check: CheckRun;
  readonly watch: ReplicaWatchRun;
  /** Warnings or errors the servers logged. */
  readonly serverWarnings: number;
}

export interface PostgresRun {
  readonly version: string;
  readonly hosts: number;
  readonly devices: number;
  readonly settings: Readonly<Record<string, string>>;
  readonly runs: StoreRun[];
}

export type PostgresResult = { readonly skipped: string } | ({ readonly skipped?: undefined } & PostgresRun);

/** What the bench's cluster sets: PostgreSQL's defaults for durability (the tests turn fsync off). */
export const BENCH_CLUSTER_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'on',
  full_page_writes: 'on',
  synchronous_commit: 'on',
  max_connections: '100',
};

function postgresVersion(binDir: string): string {
  try {
    const out = execFileSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /(\d+(\.\d+)*)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return '?';
  }
}

/**
 * Waits until every replica reflects `revision`: a GetHost carrying the min-revision header is
 * held by a replica until it has applied that revision (server/grpc/min-revision.ts).
 */
async function awaitRevision(addresses: readonly string[], hostName: string, revision: number): Promise<number> {
  const method = loadServices().RegistryService.service.GetHost;
  const t0 = nowMs();
  await Promise.all(
    addresses.map(async (address) => {
      const raw = new grpc.Client(address, grpc.credentials.createInsecure());
      try {
        for (let attempt = 1; ; attempt++) {
          const metadata = new grpc.Metadata();
          metadata.set(MIN_REVISION_METADATA_KEY, String(revision));
          const error = await new Promise<grpc.ServiceError | null>((resolve) =>
            raw.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, { name: hostName }, metadata, { deadline: Date.now() + 5_000 }, (e) =>
              resolve(e),
            ),
          );
          if (!error) return;
          if (error.code !== grpc.status.UNAVAILABLE || attempt >= 6) throw new Error(`${address} did not reach revision ${revision}: ${error.message}`);
        }
      } finally {
        raw.close();
      }
    }),
  );
  return nowMs() - t0;
}

interface Prepared {
  readonly params: PostgresParams;
  readonly encoded: ReturnType<typeof encodeSyncRequests>;
  readonly pairs: ReturnType<typeof pairPool>;
}

/** Registration, checks and watch latency against running servers (one or several replicas). */
async function measureStore(label: string, servers: readonly ChildServer[], databasePids: PidLister, prepared: Prepared): Promise<StoreRun> {
  const { params, encoded, pairs } = prepared;
  const addresses = servers.map((s) => s.address);
  const serverPids = servers.map((s) => s.pid);
  params.log(`-- ${label}: ${servers.map((s) => `pid ${s.pid} at ${s.address}`).join(', ')}`);

  const registration = await withCpu(
    serverPids,
    () => syncFleet(addresses, encoded, { hosts: encoded.length, inFlight: params.inFlight, timeoutS: params.syncTimeoutS, progress: params.log }),
    databasePids,
  );
  const r = registration.value;
  if (r.failures > 0 || r.timedOut || r.devicesCreated !== r.devices) {
    throw new Error(`${label}: registration incomplete: ${r.failures} failures${r.timedOut ? ', timed out' : ''}, ${r.devicesCreated} of ${r.devices} devices created; first: ${r.firstError}`);
  }
  const caughtUpMs = await awaitRevision(addresses, `hosts/${encoded.at(-1)!.hostId}`, r.lastRevision);
  const rssBytes = serverPids.map((pid) => readMemory(pid)?.rssBytes ?? Number.NaN);
  params.log(
    `registration: ${fmt(r.hostsSynced)} hosts / ${fmt(r.devices)} devices in ${fmt(r.seconds, 2)} s (${fmt(r.syncsPerSecond)} hosts/s; p50 ${fmt(r.latencyMs.p50, 1)} ms, ` +
      `p99 ${fmt(r.latencyMs.p99, 1)} ms); every replica at revision ${fmt(r.lastRevision)} ${fmt(caughtUpMs, 1)} ms later; ` +
      `RSS ${rssBytes.map((b) => `${fmt(b / 1e6)} MB`).join(', ')}; ${note(registration.cpu)}`,
  );

  const clients = addresses.map((address) => new DevcompatClient({ address, actor: 'bench' }));
  let check: CheckRun;
  try {
    check = await measureChecks(clients, serverPids, pairs, params.check, databasePids);
  } finally {
    for (const client of clients) client.close();
  }
  params.log(
    `checks: ${fmt(check.callsPerSecond)} calls/s (p50 ${fmt(check.latencyMs.p50, 2)} ms, p99 ${fmt(check.latencyMs.p99, 2)} ms); ${check.errors} errors` +
      `${check.firstError ? ` (${check.firstError})` : ''}; ${note(check.cpu!)}`,
  );

  const watch = await measureReplicaWatch({
    addresses,
    churn: new DeviceChurn(encoded, params.spec, params.spec.seed + 1),
    rate: params.watch.rate,
    seconds: params.watch.seconds,
    maxOutstanding: params.watch.maxOutstanding,
    settleS: 30,
    serverPids,
    helperPids: databasePids,
  });
  const w = watch.writes;
  params.log(
    `watch: ${fmt(w.syncs)} syncs at ${fmt(w.syncsPerSecond)}/s (p50 ${fmt(w.latencyMs.p50, 1)} ms, p99 ${fmt(w.latencyMs.p99, 1)} ms, ${w.failures} failed, ${w.skipped} skipped); ` +
      `acknowledgement to receipt on every replica p50 ${fmt(watch.everyReplicaMs.p50, 1)} ms, p99 ${fmt(watch.everyReplicaMs.p99, 1)} ms ` +
      `(from the commit p50 ${fmt(watch.everyReplicaFromCommitMs.p50, 1)} ms, p99 ${fmt(watch.everyReplicaFromCommitMs.p99, 1)} ms; writer's replica p99 ${fmt(watch.writerReplicaMs.p99, 1)} ms${watch.otherReplicasMs ? `, others p99 ${fmt(watch.otherReplicasMs.p99, 1)} ms` : ''}); ` +
      `${watch.missing} missing, ${watch.beforeAck} before the answer; ${note(watch.cpu)}`,
  );
  if (watch.watcherErrors.length > 0) params.log(`watch errors: ${watch.watcherErrors.join('; ')}`);
  const serverWarnings = servers.reduce((sum, s) => sum + s.warnings(), 0);
  return { label, replicas: servers.length, registration: { ...r, cpu: registration.cpu }, caughtUpMs, rssBytes, check, watch, serverWarnings };
}

/** The CPU note of this phase: the replicas, PostgreSQL (the helpers), the load generator, the rest. */
export function note(cpu: CpuUse): string {
  const pct = (s: number | undefined) => `${fmt(((s ?? 0) / cpu.wallS) * 100)}%`;
  return `CPU (% of one core): servers ${pct(cpu.serverCpuS)}, PostgreSQL ${cpu.helperCpuS === undefined ? 'n/a' : pct(cpu.helperCpuS)}, load generator ${pct(cpu.clientCpuS)}, other processes ${pct(cpu.otherCpuS)}`;
}

/** The whole phase: SQLite, then each replica count over a fresh PostgreSQL database. */
export async function measurePostgres(params: PostgresParams): Promise<PostgresResult> {
  const missing = postgresMissing(params.binDir);
  if (missing !== undefined) {
    const skipped = `PostgreSQL is not usable here: ${missing} (install it: apt-get install postgresql, or set DEVCOMPAT_PG_BIN / --pg-bin)`;
    params.log(`postgres phase SKIPPED: ${skipped}`);
    return { skipped };
  }
  const binDir = params.binDir ?? postgresBinDir();
  const encoded = encodeSyncRequests(params.spec);
  const prepared: Prepared = { params, encoded, pairs: pairPool(params.spec, 20_000, params.spec.seed) };
  const devices = encoded.reduce((sum, e) => sum + e.devices, 0);
  const serverArgs = (store: string[]) => [
    ...serverEntryArgs(params.serverNodeOptions), ...store, '--address', '127.0.0.1:0',
    ...['--durability', params.durability, '--lease-ttl', params.leaseTtl, '--log-level', 'info'],
  ];
  const servers: ChildServer[] = [];
  const stopServers = async () => {
    const stopping = servers.splice(0).map(async (server) => {
      const how = await server.stop();
      if (how !== 'exit code 0') params.log(`${server.name} stopped: ${how}`);
    });
    await Promise.all(stopping);
  };
  const runs: StoreRun[] = [];
  let cluster: PostgresCluster | undefined;
  // If the bench exits mid-phase (interrupted, or an uncaught error), the replicas are killed
  // and the cluster (a daemon of pg_ctl's, which would outlive us) is stopped and removed.
  const onExit = () => {
    for (const server of servers) if (server.alive()) process.kill(server.pid, 'SIGKILL');
    cluster?.destroy();
  };
  process.once('exit', onExit);
  try {
    servers.push(
      await startChild({ name: 'SQLite server', args: serverArgs(['--db', path.join(params.workDir, 'postgres-phase-sqlite.db')]), readyMsg: 'devcompat serving' }),
    );
    runs.push(await measureStore('SQLite', servers, () => [], prepared));
    await stopServers();

    cluster = await PostgresCluster.create({ binDir, settings: BENCH_CLUSTER_SETTINGS });
    const version = postgresVersion(binDir);
    params.log(`PostgreSQL ${version} at 127.0.0.1:${cluster.port}, data in ${cluster.dataDir} (${Object.entries(BENCH_CLUSTER_SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ')})`);
    const postmaster = cluster.postmasterPid();
    const databasePids = () => (postmaster === undefined ? [] : withChildPids(postmaster));
    for (const count of params.replicas) {
      const url = await cluster.createDatabase('bench');
      // One after the other: the first creates the schema, the others find it.
      for (let i = 0; i < count; i++) {
        servers.push(await startChild({ name: `replica ${i + 1} of ${count}`, args: serverArgs(['--store', url]), readyMsg: 'devcompat serving', timeoutMs: 60_000 }));
      }
      runs.push(await measureStore(`PostgreSQL x${count}`, servers, databasePids, prepared));
      await stopServers();
    }
    return { version, hosts: encoded.length, devices, settings: BENCH_CLUSTER_SETTINGS, runs };
  } catch (error) {
    const tails = servers.map((s) => `${s.name}'s last lines:\n${s.tail().join('\n')}`).join('\n');
    throw new Error(`postgres phase failed: ${(error as Error).message}\n${tails}${cluster ? `\nPostgreSQL's log:\n${cluster.log()}` : ''}`);
  } finally {
    process.off('exit', onExit);
    await stopServers();
    cluster?.destroy();
  }
}

/** CPU seconds of the servers and of PostgreSQL: what a busy machine changes much less than wall time. */
function cpuSeconds(cpu: CpuUse): string {
  return `${fmt(cpu.serverCpuS, 1)} + ${cpu.helperCpuS === undefined ? '0' : fmt(cpu.helperCpuS, 1)}`;
}

/** The side-by-side table the phase prints: one column per store. */
export function postgresTable(result: PostgresRun): string {
  const cell = (pick: (run: StoreRun) => string) => result.runs.map(pick);
  const rows: string[][] = [
    ['registration time', ...cell((r) => `${fmt(r.registration.seconds, 2)} s`)],
    ['  hosts/s', ...cell((r) => fmt(r.registration.syncsPerSecond))],
    ['  SyncHost p50 / p99 ms', ...cell((r) => `${fmt(r.registration.latencyMs.p50, 1)} / ${fmt(r.registration.latencyMs.p99, 1)}`)],
    ['  every replica caught up after', ...cell((r) => `${fmt(r.caughtUpMs, 1)} ms`)],
    ['  CPU s, servers + PostgreSQL', ...cell((r) => cpuSeconds(r.registration.cpu))],
    ['  RSS per replica', ...cell((r) => r.rssBytes.map((b) => `${fmt(b / 1e6)} MB`).join(', '))],
    ['CheckCompatibility calls/s', ...cell((r) => fmt(r.check.callsPerSecond))],
    ['  p50 / p99 ms', ...cell((r) => `${fmt(r.check.latencyMs.p50, 2)} / ${fmt(r.check.latencyMs.p99, 2)}`)],
    ['  CPU per call, µs, servers + PostgreSQL', ...cell((r) => fmt((((r.check.cpu?.serverCpuS ?? Number.NaN) + (r.check.cpu?.helperCpuS ?? 0)) / r.check.calls) * 1e6))],
    ['watch, ack to every replica p50 / p99 ms', ...cell((r) => `${fmt(r.watch.everyReplicaMs.p50, 1)} / ${fmt(r.watch.everyReplicaMs.p99, 1)}`)],
    ['  commit to every replica p50 / p99 ms', ...cell((r) => `${fmt(r.watch.everyReplicaFromCommitMs.p50, 1)} / ${fmt(r.watch.everyReplicaFromCommitMs.p99, 1)}`)],
    ['  writer\'s replica p50 / p99 ms', ...cell((r) => `${fmt(r.watch.writerReplicaMs.p50, 1)} / ${fmt(r.watch.writerReplicaMs.p99, 1)}`)],
    ['  other replicas p50 / p99 ms', ...cell((r) => (r.watch.otherReplicasMs ? `${fmt(r.watch.otherReplicasMs.p50, 1)} / ${fmt(r.watch.otherReplicasMs.p99, 1)}` : '-'))],
    ['  syncs acknowledged (/s)', ...cell((r) => `${fmt(r.watch.writes.syncs)} (${fmt(r.watch.writes.syncsPerSecond)})`)],
  ];
  return textTable([`${fmt(result.hosts)} hosts / ${fmt(result.devices)} devices`, ...result.runs.map((r) => r.label)], rows);
}

/** The results table's lines: one per store and measurement, with what failed said. */
export function postgresRows(result: PostgresResult, params: { inFlight: number; checkSeconds: number; watchRate: number }, noise: (cpu: CpuUse | undefined) => string): string[][] {
  const label = 'PostgreSQL store: registration, checks/s and watch latency, SQLite / PostgreSQL x1 / x3';
  if (result.skipped !== undefined) return [[label, `SKIPPED: ${result.skipped}`, '', '', 'SKIPPED', '']];
  const rows: string[][] = [];
  const fleet = `${fmt(result.hosts)} hosts / ${fmt(result.devices)} devices`;
  rows.push([`SyncHost registration, ${fleet}, ${params.inFlight} in flight spread over the replicas (PostgreSQL ${result.version}, fsync on)`, '', '', '', '', '']);
  for (const r of result.runs) {
    const s = r.registration;
    const complete = s.failures === 0 && !s.timedOut && s.hostsSynced === s.hosts;
    rows.push([
      `  ${r.label}`,
      `${fmt(s.seconds, 2)} s (${fmt(s.syncsPerSecond)} hosts/s; p50 ${fmt(s.latencyMs.p50, 1)} ms, p99 ${fmt(s.latencyMs.p99, 1)} ms); every replica caught up ${fmt(r.caughtUpMs, 1)} ms later`,
      '',
      '',
      complete ? 'OK' : 'INCOMPLETE',
      noise(s.cpu),
    ]);
  }
  rows.push([`CheckCompatibility, ${params.inFlight} in flight spread over the replicas, ${params.checkSeconds} s`, '', '', '', '', '']);
  for (const r of result.runs) {
    const c = r.check;
    rows.push([`  ${r.label}`, `${fmt(c.callsPerSecond)} calls/s (p50 ${fmt(c.latencyMs.p50, 2)} ms, p99 ${fmt(c.latencyMs.p99, 2)} ms)`, '', '', c.errors === 0 ? 'OK' : `${c.errors} ERRORS`, noise(c.cpu)]);
  }
  rows.push([`Watch latency, a write acknowledged to its event on every replica's watcher, ${fmt(params.watchRate)} syncs/s spread over the replicas`, '', '', '', '', '']);
  for (const r of result.runs) {
    const w = r.watch;
    const ok = w.missing === 0 && w.watcherErrors.length === 0 && w.writes.failures === 0 && w.revisions > 0;
    rows.push([
      `  ${r.label}`,
      `p50 ${fmt(w.everyReplicaMs.p50, 1)} ms, p99 ${fmt(w.everyReplicaMs.p99, 1)} ms (${fmt(w.revisions)} revisions; from the commit p99 ${fmt(w.everyReplicaFromCommitMs.p99, 1)} ms` +
        `${w.otherReplicasMs ? `; writer's replica p99 ${fmt(w.writerReplicaMs.p99, 1)} ms, others p99 ${fmt(w.otherReplicasMs.p99, 1)} ms` : ''})`,
      '',
      '',
      ok ? 'OK' : `INCOMPLETE (${w.missing} missing, ${w.writes.failures} failed writes)`,
      noise(w.cpu),
    ]);
  }
  return rows;
}
