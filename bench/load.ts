// The benchmark's load loops, one per phase, each bounded in count and in time, and the CPU
// accounting around them. bench/run.ts drives them against the child servers.

import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { DevcompatClient } from '../client/client.ts';
import type { CompatibilityResult, Descriptor, FindTargetsSummary, SyncHostRequest } from '../client/client.ts';
import { loadServices } from '../proto/load.ts';
import { generateFleet } from './fleet.ts';
import type { FleetHost, FleetSpec } from './fleet.ts';
import type { SourceShape } from './fleet-shape.ts';
import { readCpuSeconds, readMachineBusySeconds } from './processes.ts';
import { fmt, nowMs, seededRandom, summarize, type LatencySummary } from './stats.ts';

// ---------------------------------------------------------------------------------------
// Machine and CPU accounting

/** The machine, and the filesystem of `databaseDir`, where the bench's database lives. */
export function machine(databaseDir: string) {
  let fs = '';
  try {
    fs = execFileSync('df', ['-T', databaseDir], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/)[1] ?? '';
  } catch {
    // not essential
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    dbFilesystem: fs,
    source: sourceState(),
  };
}

/** The commit benchmarked, and whether server/, client/ or proto/ had uncommitted changes. */
function sourceState(): { commit: string; dirty: boolean } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', cwd: new URL('..', import.meta.url) }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'server', 'client', 'proto', 'migrations') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

export interface CpuUse {
  /** CPU seconds used by the server (user + system) during the phase. */
  readonly serverCpuS: number;
  /** CPU seconds used by this load generator during the phase. */
  readonly clientCpuS: number;
  /** CPU seconds used by the benchmark's other load processes (the watchers), if any. */
  readonly helperCpuS?: number;
  /** CPU seconds used by every other process of the machine (noise), during the phase. */
  readonly otherCpuS: number;
  readonly wallS: number;
}

/** Processes listed again at the end of a measurement (a database's, whose backends come and go). */
export type PidLister = () => readonly number[];

/**
 * Measures wall time and the CPU time of the server (or servers: replicas), of this process, of
 * the benchmark's other load processes or a database's (`helperPids`; as a function, listed at
 * both ends, so that a process started during the measurement counts from 0) and of the rest.
 */
export async function withCpu<T>(
  pid: number | readonly number[],
  body: () => Promise<T>,
  helperPids: readonly number[] | PidLister = [],
): Promise<{ value: T; cpu: CpuUse }> {
  const cpuOf = (pids: readonly number[]) => pids.reduce((sum, one) => sum + (readCpuSeconds(one) ?? Number.NaN), 0);
  const serverPids = typeof pid === 'number' ? [pid] : pid;
  const listHelpers = typeof helperPids === 'function' ? helperPids : () => helperPids;
  const helperStart = new Map(listHelpers().map((one) => [one, readCpuSeconds(one) ?? 0]));
  const hasHelpers = helperStart.size > 0;
  const server0 = cpuOf(serverPids);
  const machine0 = readMachineBusySeconds() ?? Number.NaN;
  const client0 = process.cpuUsage();
  const t0 = nowMs();
  const value = await body();
  const wallS = (nowMs() - t0) / 1000;
  const client = process.cpuUsage(client0);
  const serverCpuS = cpuOf(serverPids) - server0;
  const helperCpuS = listHelpers().reduce((sum, one) => sum + Math.max(0, (readCpuSeconds(one) ?? 0) - (helperStart.get(one) ?? 0)), 0);
  const clientCpuS = (client.user + client.system) / 1e6;
  const machineCpuS = (readMachineBusySeconds() ?? Number.NaN) - machine0;
  return {
    value,
    cpu: {
      serverCpuS,
      clientCpuS,
      ...(hasHelpers ? { helperCpuS } : {}),
      otherCpuS: Math.max(0, machineCpuS - serverCpuS - clientCpuS - (hasHelpers ? helperCpuS : 0)),
      wallS,
    },
  };
}

export const cpuNote = (cpu: CpuUse) =>
  `CPU (% of one core): server ${fmt((cpu.serverCpuS / cpu.wallS) * 100)}%, load generator ${fmt((cpu.clientCpuS / cpu.wallS) * 100)}%, ` +
  (cpu.helperCpuS === undefined ? '' : `watchers ${fmt((cpu.helperCpuS / cpu.wallS) * 100)}%, `) +
  `other processes ${fmt((cpu.otherCpuS / cpu.wallS) * 100)}%`;

// ---------------------------------------------------------------------------------------
// SyncHost

export interface SyncResult {
  readonly hosts: number;
  readonly hostsSynced: number;
  readonly devices: number;
  readonly devicesCreated: number;
  readonly failures: number;
  readonly firstError?: string;
  readonly seconds: number;
  readonly syncsPerSecond: number;
  readonly devicesPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly timedOut: boolean;
  /** The highest revision a SyncHost answer carried (what every replica must reach). */
  readonly lastRevision: number;
  readonly cpu?: CpuUse;
}

export function syncRequest(host: FleetHost): SyncHostRequest {
  return {
    name: `hosts/${host.host_id}`,
    labels: host.labels,
    devices: host.devices.map((d) => ({
      device_id: d.device_id,
      // Frozen fleet JSON; the client only reads it.
      descriptor: d.descriptor as unknown as Descriptor,
      capacity: d.capacity,
      labels: d.labels,
    })),
  };
}

/**
 * Registers the whole fleet, `inFlight` SyncHost calls at a time. The requests are generated
 * and encoded (with the API's own serializer) before the clock starts, as the fleet itself is:
 * on this 2-core machine the load generator's protobuf encoding would otherwise compete with
 * the server for the cores, and the measurement is of the server.
 */
export interface EncodedSync {
  readonly hostId: string;
  readonly devices: number;
  readonly bytes: Buffer;
}

export function encodeSyncRequests(spec: FleetSpec): EncodedSync[] {
  const method = loadServices().RegistryService.service.SyncHost;
  return Array.from(generateFleet(spec), (host) => ({
    hostId: host.host_id,
    devices: host.devices.length,
    bytes: method.requestSerialize(syncRequest(host)),
  }));
}

/**
 * With several addresses (replicas of one registry), host i is registered through address
 * i mod n, so the writers are spread evenly over them.
 */
export async function syncFleet(
  address: string | readonly string[],
  encoded: readonly EncodedSync[],
  params: { hosts: number; inFlight: number; timeoutS: number; progress?: (line: string) => void },
): Promise<SyncResult> {
  const method = loadServices().RegistryService.service.SyncHost;
  const raws = (typeof address === 'string' ? [address] : address).map((one) => new grpc.Client(one, grpc.credentials.createInsecure()));
  const send = (raw: grpc.Client, bytes: Buffer) =>
    new Promise<{ devices_created: number; revision: string }>((resolve, reject) =>
      raw.makeUnaryRequest(
        method.path,
        (buffer: Buffer) => buffer,
        method.responseDeserialize as (bytes: Buffer) => { devices_created: number; revision: string },
        bytes,
        { deadline: Date.now() + 60_000 },
        (error, response) => (error ? reject(error) : resolve(response!)),
      ),
    );
  let next = 0;
  const latencies: number[] = [];
  let hostsSynced = 0;
  let devices = 0;
  let devicesCreated = 0;
  let lastRevision = 0;
  let failures = 0;
  let firstError: string | undefined;
  let timedOut = false;
  const start = nowMs();
  const deadline = start + params.timeoutS * 1000;
  let progressAt = start + 5000;
  const worker = async () => {
    for (;;) {
      if (nowMs() > deadline) {
        timedOut = true;
        return;
      }
      if (next >= encoded.length) return;
      const i = next++;
      const host = encoded[i];
      const t0 = nowMs();
      try {
        const response = await send(raws[i % raws.length], host.bytes);
        hostsSynced++;
        devices += host.devices;
        devicesCreated += response.devices_created;
        lastRevision = Math.max(lastRevision, Number(response.revision ?? 0));
      } catch (error) {
        failures++;
        firstError ??= `${host.hostId}: ${(error as Error).message}`;
      }
      const t1 = nowMs();
      latencies.push(t1 - t0);
      if (t1 > progressAt) {
        progressAt = t1 + 5000;
        params.progress?.(`  ... ${fmt(hostsSynced)} hosts after ${fmt((t1 - start) / 1000, 1)} s`);
      }
    }
  };
  await Promise.all(Array.from({ length: params.inFlight }, worker));
  const seconds = (nowMs() - start) / 1000;
  for (const raw of raws) raw.close();
  return {
    hosts: params.hosts,
    hostsSynced,
    devices,
    devicesCreated,
    failures,
    firstError,
    seconds,
    syncsPerSecond: hostsSynced / seconds,
    devicesPerSecond: devices / seconds,
    latencyMs: summarize(latencies),
    timedOut,
    lastRevision,
  };
}

// ---------------------------------------------------------------------------------------
// CheckCompatibility

export interface Pair {
  readonly source: string;
  readonly target: string;
}

/**
 * Name pairs: a source device drawn uniformly from the fleet, a target drawn uniformly among
 * the other devices of its vendor/device_api/type, so verdicts are real and mixed.
 */
export function pairPool(spec: FleetSpec, size: number, seed: number): Pair[] {
  const byType = new Map<string, string[]>();
  const all: { name: string; type: string }[] = [];
  for (const host of generateFleet(spec)) {
    for (const device of host.devices) {
      const d = device.descriptor;
      const type = `${d.vendor}/${d.device_api}/${d.type}`;
      const name = `hosts/${host.host_id}/devices/${device.device_id}`;
      let list = byType.get(type);
      if (!list) byType.set(type, (list = []));
      list.push(name);
      all.push({ name, type });
    }
  }
  const random = seededRandom(seed);
  const pairs: Pair[] = [];
  while (pairs.length < size) {
    const source = all[Math.floor(random() * all.length)];
    const targets = byType.get(source.type)!;
    if (targets.length < 2) continue;
    const target = targets[Math.floor(random() * targets.length)];
    if (target !== source.name) pairs.push({ source: source.name, target });
  }
  return pairs;
}

export interface CheckRun {
  readonly calls: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly verdicts: Record<string, number>;
  readonly cpu?: CpuUse;
}

export interface CheckParams {
  readonly inFlight: number;
  /** Upper bound on calls, whatever the time. */
  readonly maxCalls: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

/**
 * `inFlight` loops calling check() for `seconds`, bounded by maxCalls. With several clients
 * (one per replica), loop i calls through client i mod n.
 */
async function checkLoad(
  clients: readonly DevcompatClient[],
  pairs: readonly Pair[],
  params: CheckParams,
  seconds: number,
  record: boolean,
): Promise<CheckRun> {
  const latencies: number[] = [];
  const verdicts: Record<string, number> = {};
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = nowMs();
  const end = start + seconds * 1000;
  const worker = async (client: DevcompatClient) => {
    while (nowMs() < end && calls + errors < params.maxCalls) {
      const pair = pairs[next++ % pairs.length];
      const t0 = nowMs();
      try {
        const result = await client.check(pair.source, pair.target);
        calls++;
        if (record) {
          latencies.push(nowMs() - t0);
          verdicts[result.verdict] = (verdicts[result.verdict] ?? 0) + 1;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: params.inFlight }, (_, i) => worker(clients[i % clients.length])));
  const elapsed = (nowMs() - start) / 1000;
  return { calls, errors, firstError, seconds: elapsed, callsPerSecond: calls / elapsed, latencyMs: summarize(latencies), verdicts };
}

/**
 * A warm-up, then the measured run with the CPU use of `pid` (the server, or the replicas),
 * of `helperPids` (a database's processes) and of this process.
 */
export async function measureChecks(
  client: DevcompatClient | readonly DevcompatClient[],
  pid: number | readonly number[],
  pairs: readonly Pair[],
  params: CheckParams,
  helperPids: readonly number[] | PidLister = [],
): Promise<CheckRun> {
  const clients = client instanceof DevcompatClient ? [client] : client;
  if (params.warmupSeconds > 0) await checkLoad(clients, pairs, params, params.warmupSeconds, false);
  const { value, cpu } = await withCpu(pid, () => checkLoad(clients, pairs, params, params.seconds, true), helperPids);
  return { ...value, cpu };
}

const serializeResponse = (loadServices().CompatibilityService as any).service.CheckCompatibility.responseSerialize as (
  value: unknown,
) => Buffer;

/** Encoded sizes of real responses, and the one of median size (what the baseline answers). */
export async function captureResponse(client: DevcompatClient, pairs: readonly Pair[], samples: number) {
  const responses: { result: CompatibilityResult; bytes: number }[] = [];
  for (let i = 0; i < samples; i++) {
    const pair = pairs[(i * 7919) % pairs.length];
    const result = await client.check(pair.source, pair.target);
    responses.push({ result, bytes: serializeResponse({ result }).length });
  }
  responses.sort((a, b) => a.bytes - b.bytes);
  const median = responses[Math.floor(responses.length / 2)];
  return {
    response: { result: median.result },
    bytes: median.bytes,
    sampleBytes: summarize(responses.map((r) => r.bytes)),
    verdict: median.result.verdict,
    checks: median.result.checks.length,
  };
}

// ---------------------------------------------------------------------------------------
// CheckCompatibilityStream

export interface StreamRun {
  readonly checks: number;
  readonly itemErrors: number;
  readonly seconds: number;
  readonly checksPerSecond: number;
  readonly batch: number;
  readonly window: number;
  /** Round trip of one batch message: first submit to its last result. */
  readonly batchLatencyMs: LatencySummary;
  readonly verdicts: Record<string, number>;
  readonly timedOut: boolean;
  readonly cpu?: CpuUse;
}

export interface StreamParams {
  /** Checks per request message. */
  readonly batch: number;
  /** Request messages in flight (sent, not all answered). */
  readonly window: number;
  readonly timeoutS: number;
}

/** `total` checks on one CheckCompatibilityStream through the client's CheckStream. */
export async function streamLoad(client: DevcompatClient, pairs: readonly Pair[], total: number, params: StreamParams): Promise<StreamRun> {
  const stream = client.checkStream({ maxBatch: params.batch });
  const batchLatencies: number[] = [];
  const verdicts: Record<string, number> = {};
  let checks = 0;
  let itemErrors = 0;
  let submitted = 0;
  let next = 0;
  let timedOut = false;
  const window: Promise<void>[] = [];
  const start = nowMs();
  const deadline = start + params.timeoutS * 1000;
  try {
    while (submitted < total) {
      if (nowMs() > deadline) {
        timedOut = true;
        break;
      }
      const size = Math.min(params.batch, total - submitted);
      const t0 = nowMs();
      const batch: Promise<void>[] = [];
      for (let i = 0; i < size; i++) {
        const pair = pairs[next++ % pairs.length];
        batch.push(
          stream.submit({ source: pair.source, target: pair.target }).then((outcome) => {
            checks++;
            if (outcome.result) verdicts[outcome.result.verdict] = (verdicts[outcome.result.verdict] ?? 0) + 1;
            else itemErrors++;
          }),
        );
      }
      submitted += size;
      const answered = Promise.all(batch).then(() => void batchLatencies.push(nowMs() - t0));
      answered.catch(() => {}); // awaited below; until then a failure must not be an unhandled rejection
      window.push(answered);
      if (window.length >= params.window) await window.shift();
    }
    await Promise.all(window);
  } finally {
    await stream.close();
  }
  const seconds = (nowMs() - start) / 1000;
  return {
    checks,
    itemErrors,
    seconds,
    checksPerSecond: checks / seconds,
    batch: params.batch,
    window: params.window,
    batchLatencyMs: summarize(batchLatencies),
    verdicts,
    timedOut,
  };
}

// ---------------------------------------------------------------------------------------
// FindTargets

export interface FindRun {
  readonly source: string;
  readonly type: string;
  readonly name: string;
  readonly queries: number;
  readonly targetsPerQuery: number;
  readonly firstMs: LatencySummary;
  readonly lastMs: LatencySummary;
  readonly summary?: FindTargetsSummary;
  readonly fleetCandidates: number;
  readonly fleetCompatibleEstimate: number;
  readonly targetP99Ms: number;
  readonly timedOut: boolean;
  readonly cpu?: CpuUse;
}

export interface FindParams {
  readonly queries: number;
  readonly warmup: number;
  readonly limit: number;
  readonly timeoutS: number;
}

/** Sequential FindTargets queries for one source: time to the first message and to the summary. */
export async function findLoad(client: DevcompatClient, shape: SourceShape, targetP99Ms: number, params: FindParams): Promise<FindRun> {
  const source = shape.source;
  const first: number[] = [];
  const last: number[] = [];
  let summary: FindTargetsSummary | undefined;
  let targets = 0;
  let timedOut = false;
  const deadline = nowMs() + params.timeoutS * 1000;
  for (let i = 0; i < params.warmup + params.queries; i++) {
    if (nowMs() > deadline) {
      timedOut = true;
      break;
    }
    const t0 = nowMs();
    let tFirst: number | undefined;
    let tLast: number | undefined;
    let n = 0;
    for await (const item of client.findTargets(source.name, { limit: params.limit })) {
      const t = nowMs();
      tFirst ??= t;
      if ('summary' in item) {
        tLast = t;
        summary = item.summary;
      } else {
        n++;
      }
    }
    if (tFirst === undefined || tLast === undefined) throw new Error(`FindTargets for ${source.name} ended without a summary`);
    if (i >= params.warmup) {
      first.push(tFirst - t0);
      last.push(tLast - t0);
      targets = n;
    }
  }
  return {
    source: source.id,
    type: `${source.descriptor.type} ${source.descriptor.software_version}`,
    name: source.name,
    queries: last.length,
    targetsPerQuery: targets,
    firstMs: summarize(first),
    lastMs: summarize(last),
    summary,
    fleetCandidates: shape.candidates,
    fleetCompatibleEstimate: shape.estimatedCompatible,
    targetP99Ms,
    timedOut,
  };
}
