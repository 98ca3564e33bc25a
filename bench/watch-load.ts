// The watch phase (bench/run.ts, `--only watch`): writers that change one device per sync on
// the seeded fleet, the watchers of bench/watchers.ts in a process of their own, and the
// measurements the issue asks for:
//   - sync throughput, closed loop, without watchers, with the 1,010 watchers, and without
//     them again (so that a drift over time shows, instead of passing for the watchers' cost);
//   - 200 syncs/s paced with the watchers attached: event delivery latency (commit to
//     receipt) for the unfiltered and the host-filtered watchers, and the server's RSS;
//   - the fan-out ceiling: with the unfiltered watchers only, the sync rate stepped up until
//     their p99 passes 1 s (or the writers can go no faster).
// Every loop is bounded in count and in time.

import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../proto/load.ts';
import { generateFleet, type FleetSpec } from './fleet.ts';
import { syncRequest, withCpu, type CpuUse, type EncodedSync } from './load.ts';
import { readMemory, startLoadChild, type LoadChild } from './processes.ts';
import { fieldSegments, readSyncResponse, withoutField } from './protowire.ts';
import { fmt, nowMs, seededRandom, sleep, summarize, wallNowMs, type LatencySummary } from './stats.ts';

const MB = 1e6;

// ---------------------------------------------------------------------------------------
// Syncs that change one device each, assembled from pre-encoded pieces

/**
 * SyncHost requests that each change one device's capacity on a random host of the fleet. A
 * SyncHostRequest is its name and labels followed by one length-delimited field per device,
 * so a request is the host's header, its devices' pre-encoded bytes, and for the device that
 * changes, the bytes of its other capacity: each sync costs the load generator a
 * Buffer.concat. Every device alternates between its fleet capacity and another one
 * (`available` one lower, or one higher when it is 0), so each sync is a real change. A host
 * with a sync in flight is not drawn again until it is answered (as its agent would not sync
 * twice at once): two concurrent syncs of one host may be applied in either order, and one
 * of them would then change nothing.
 */
export class DeviceChurn {
  private readonly headers: Buffer[] = [];
  private readonly devices: Buffer[][] = [];
  private readonly changed: Buffer[][] = [];
  private readonly flipped: Uint8Array[] = [];
  private readonly random: () => number;
  readonly hostIds: string[] = [];

  constructor(encoded: readonly EncodedSync[], spec: FleetSpec, seed: number) {
    const serialize = loadServices().RegistryService.service.SyncHost.requestSerialize;
    let h = 0;
    for (const host of generateFleet(spec)) {
      const bytes = encoded[h].bytes;
      if (encoded[h].hostId !== host.host_id) throw new Error(`encoded request ${h} is for ${encoded[h].hostId}, not ${host.host_id}`);
      this.hostIds.push(host.host_id);
      this.headers.push(withoutField(bytes, 3));
      const segments = fieldSegments(bytes, 3);
      if (segments.length !== host.devices.length) throw new Error(`${host.host_id}: ${segments.length} device fields for ${host.devices.length} devices`);
      this.devices.push(segments);
      this.changed.push(
        syncRequest(host).devices.map((device) => {
          const capacity = device.capacity ?? { total: 1, available: 1 };
          const available = capacity.available > 0 ? capacity.available - 1 : Math.min(capacity.total, capacity.available + 1);
          return serialize({ devices: [{ ...device, capacity: { total: Math.max(capacity.total, 1), available } }] });
        }),
      );
      this.flipped.push(new Uint8Array(host.devices.length));
      h++;
    }
    this.random = seededRandom(seed);
  }

  get hosts(): number {
    return this.hostIds.length;
  }

  private readonly busy = new Set<number>();

  /** The next sync: a random host without a sync in flight, one of its devices changed. */
  next(): { host: number; bytes: Buffer } {
    let h = Math.floor(this.random() * this.headers.length);
    for (let tries = 0; this.busy.has(h) && tries < 1000; tries++) h = Math.floor(this.random() * this.headers.length);
    if (this.busy.has(h)) throw new Error('every host drawn has a sync in flight: too few hosts for the load');
    this.busy.add(h);
    const devices = this.devices[h];
    const d = Math.floor(this.random() * devices.length);
    const flipped = this.flipped[h];
    flipped[d] ^= 1;
    const parts = [this.headers[h]];
    for (let i = 0; i < devices.length; i++) parts.push(flipped[i] ? this.changed[h][i] : devices[i]);
    return { host: h, bytes: Buffer.concat(parts) };
  }

  /** The host's sync was answered (or failed): it may be drawn again. */
  done(host: number): void {
    this.busy.delete(host);
  }
}

// ---------------------------------------------------------------------------------------
// Writers

export interface WriteRun {
  readonly mode: 'closed loop' | 'paced';
  readonly inFlight?: number;
  readonly targetRate?: number;
  /** Syncs acknowledged. */
  readonly syncs: number;
  /** Acknowledged syncs that changed nothing (should be 0: each sync changes a device). */
  readonly unchanged: number;
  readonly failures: number;
  readonly firstError?: string;
  /** Paced only: sends not made because too many syncs were outstanding. */
  readonly skipped: number;
  readonly seconds: number;
  readonly syncsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly lastRevision: number;
  /** Wall clock (ms since the epoch) when the first sync was sent and the last acknowledged. */
  readonly startEpochMs: number;
  readonly endEpochMs: number;
  readonly timedOut: boolean;
  readonly cpu?: CpuUse;
  /** Closed loop only: the run's span on the monotonic clock (µs), the clock of a `--profile` cpuprofile's timestamps. */
  readonly monotonicUs?: readonly [number, number];
}

/** What sends one encoded SyncHost: a SyncWriter, or one that spreads syncs over replicas. */
export interface SyncSender {
  send(bytes: Buffer): Promise<{ revision: number; changed: boolean }>;
}

export class SyncWriter implements SyncSender {
  private readonly client: grpc.Client;
  private readonly path = loadServices().RegistryService.service.SyncHost.path;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  }

  send(bytes: Buffer): Promise<{ revision: number; changed: boolean }> {
    return new Promise((resolve, reject) =>
      this.client.makeUnaryRequest(
        this.path,
        (b: Buffer) => b,
        readSyncResponse,
        bytes,
        { deadline: Date.now() + 60_000 },
        (error, response) => (error ? reject(error) : resolve(response!)),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

class Tally {
  syncs = 0;
  unchanged = 0;
  failures = 0;
  firstError: string | undefined;
  lastRevision = 0;
  lastAckEpochMs = 0;
  readonly latencies: number[] = [];

  async sendOne(writer: SyncSender, churn: DeviceChurn): Promise<void> {
    const { host, bytes } = churn.next();
    const t0 = nowMs();
    try {
      const response = await writer.send(bytes);
      this.syncs++;
      if (!response.changed) this.unchanged++;
      if (response.revision > this.lastRevision) this.lastRevision = response.revision;
    } catch (error) {
      this.failures++;
      this.firstError ??= (error as Error).message;
    } finally {
      churn.done(host);
    }
    this.latencies.push(nowMs() - t0);
    this.lastAckEpochMs = wallNowMs();
  }
}

/** `inFlight` syncs at a time, `count` in all, bounded by `timeoutS`. */
export async function closedLoopSyncs(
  writer: SyncSender,
  churn: DeviceChurn,
  params: { inFlight: number; count: number; timeoutS: number },
): Promise<WriteRun> {
  const tally = new Tally();
  let started = 0;
  let timedOut = false;
  const startEpochMs = wallNowMs();
  const startUs = monotonicUs();
  const start = nowMs();
  const deadline = start + params.timeoutS * 1000;
  const worker = async () => {
    while (started < params.count) {
      if (nowMs() > deadline) {
        timedOut = true;
        return;
      }
      started++;
      await tally.sendOne(writer, churn);
    }
  };
  await Promise.all(Array.from({ length: params.inFlight }, worker));
  const seconds = (nowMs() - start) / 1000;
  return {
    mode: 'closed loop',
    inFlight: params.inFlight,
    syncs: tally.syncs,
    unchanged: tally.unchanged,
    failures: tally.failures,
    firstError: tally.firstError,
    skipped: 0,
    seconds,
    syncsPerSecond: tally.syncs / seconds,
    latencyMs: summarize(tally.latencies),
    lastRevision: tally.lastRevision,
    startEpochMs,
    endEpochMs: tally.lastAckEpochMs,
    timedOut,
    monotonicUs: [startUs, monotonicUs()],
  };
}

/** The monotonic clock in µs (CLOCK_MONOTONIC, which V8's profiler also stamps its samples with). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Open loop: sync i is sent at start + i / rate, whatever the answers, for `seconds`; at most
 * `maxOutstanding` unanswered (beyond, a send is skipped and counted). Then waits (at most
 * `drainS`) for the answers.
 */
export async function pacedSyncs(
  writer: SyncSender,
  churn: DeviceChurn,
  params: { rate: number; seconds: number; maxOutstanding: number; drainS: number },
): Promise<WriteRun> {
  const tally = new Tally();
  let due = 0;
  let skipped = 0;
  let outstanding = 0;
  const sends: Promise<void>[] = [];
  const startEpochMs = wallNowMs();
  const start = nowMs();
  const end = start + params.seconds * 1000;
  for (;;) {
    const now = nowMs();
    if (now >= end) break;
    const target = Math.floor(((now - start) / 1000) * params.rate) + 1;
    while (due < target) {
      due++;
      if (outstanding >= params.maxOutstanding) {
        skipped++;
        continue;
      }
      outstanding++;
      sends.push(tally.sendOne(writer, churn).finally(() => outstanding--));
    }
    await sleep(1);
  }
  const sendSeconds = (nowMs() - start) / 1000;
  let timedOut = false;
  const drained = Promise.all(sends).then(() => true);
  if (!(await Promise.race([drained, sleep(params.drainS * 1000).then(() => false)]))) timedOut = true;
  return {
    mode: 'paced',
    targetRate: params.rate,
    syncs: tally.syncs,
    unchanged: tally.unchanged,
    failures: tally.failures,
    firstError: tally.firstError,
    skipped,
    seconds: sendSeconds,
    // Acknowledged syncs over the time they were offered in: the rate the server sustained.
    syncsPerSecond: tally.syncs / Math.max(sendSeconds, (tally.lastAckEpochMs - startEpochMs) / 1000),
    latencyMs: summarize(tally.latencies),
    lastRevision: tally.lastRevision,
    startEpochMs,
    endEpochMs: tally.lastAckEpochMs,
    timedOut,
  };
}

// ---------------------------------------------------------------------------------------
// The watchers' process

export interface WatchClassReport {
  readonly watchers: number;
  readonly messages: number;
  readonly events: number;
  readonly progress: number;
  readonly bytes: number;
  readonly inWindow: number;
  readonly latencyMs: LatencySummary;
  readonly minLastRevision: number;
  readonly failed: number;
  readonly firstError?: string;
  readonly dropped: number;
}

export interface WatchReport {
  readonly unfiltered: WatchClassReport;
  readonly host: WatchClassReport;
  readonly misrouted: number;
}

class Watchers {
  private constructor(readonly child: LoadChild) {}

  /** With `profileDir`, the process runs with --cpu-prof and writes its profile there when it stops. */
  static async start(address: string, profileDir: string | undefined, nodeOptions: readonly string[]): Promise<Watchers> {
    const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
    const args = [...nodeOptions, ...profile, '--import', 'tsx', 'bench/watchers.ts', '--address', address];
    return new Watchers(await startLoadChild({ name: 'watchers', args }));
  }

  get pid(): number {
    return this.child.pid;
  }

  async open(unfiltered: number, hosts: readonly string[], hostsPerConnection: number): Promise<{ opened: number; failed: string[]; ms: number }> {
    const result = await this.child.request<{ opened: number; failed: string[]; ms: number }>(
      { type: 'open', unfiltered, hosts: [...hosts], hostsPerConnection, timeoutMs: 60_000 },
      90_000,
    );
    if (result.opened !== unfiltered + hosts.length) {
      throw new Error(`only ${result.opened} of ${unfiltered + hosts.length} watches were created: ${result.failed.join('; ')}`);
    }
    return result;
  }

  close(kind?: 'unfiltered' | 'host'): Promise<{ closed: number; open: number }> {
    return this.child.request({ type: 'close', ...(kind ? { kind } : {}) });
  }

  clear(): Promise<void> {
    return this.child.request({ type: 'clear' });
  }

  /** Latencies of the messages whose revision was committed in [fromMs, toMs]. */
  report(fromMs: number, toMs: number): Promise<WatchReport> {
    return this.child.request({ type: 'report', fromMs, toMs });
  }

  /** Waits (at most timeoutS) until every unfiltered watcher has received `revision`. */
  reach(revision: number, timeoutS: number): Promise<{ reached: boolean; ms: number }> {
    return this.child.request({ type: 'reach', revision, timeoutMs: timeoutS * 1000 }, timeoutS * 1000 + 10_000);
  }

  stop(): Promise<string> {
    return this.child.stop();
  }
}

// ---------------------------------------------------------------------------------------
// The phase

export interface WatchParams {
  readonly address: string;
  readonly serverPid: number;
  readonly encoded: readonly EncodedSync[];
  readonly spec: FleetSpec;
  readonly unfilteredWatchers: number;
  readonly hostWatchers: number;
  readonly hostWatchersPerConnection: number;
  /** Closed-loop throughput: runs with the watchers, each between two runs without. */
  readonly inFlight: number;
  readonly closedSyncs: number;
  readonly closedRounds: number;
  readonly closedTimeoutS: number;
  /** The paced runs, without and then with every watcher attached. */
  readonly rate: number;
  readonly seconds: number;
  readonly maxOutstanding: number;
  /** The fan-out ceiling. */
  readonly fanoutWatchers: number;
  readonly fanoutRates: readonly number[];
  readonly fanoutStepSeconds: number;
  readonly fanoutP99LimitMs: number;
  /** Steps tried between the last rate under the limit and the first over it. */
  readonly fanoutRefinements: number;
  readonly log: (line: string) => void;
  /** When set, the watchers' process is profiled too (--cpu-prof), its profile written there. */
  readonly profileDir?: string;
  /** Extra options for the watchers' process's node (experiments). */
  readonly watchersNodeOptions?: readonly string[];
}

export interface PacedWatchRun {
  readonly writes: WriteRun;
  readonly watch: WatchReport;
  readonly caughtUp: boolean;
  readonly cpu: CpuUse;
}

export interface FanoutStep extends PacedWatchRun {
  readonly rate: number;
  /** Events delivered to the unfiltered watchers per second of the step (all watchers). */
  readonly eventsPerSecond: number;
  readonly withinLimit: boolean;
  /** The server acknowledged less than 90% of the offered rate. */
  readonly writersSaturated: boolean;
}

export interface RssDuring {
  readonly startBytes: number;
  readonly peakBytes: number;
  readonly endBytes: number;
}

export interface WatchResult {
  readonly churnSetupMs: number;
  readonly watchedHosts: { first: string; last: string; every: number };
  readonly openMs: number;
  readonly throughput: {
    /** In the order run: without, with, without, with, ..., without. */
    readonly runs: (WriteRun & { watchers: boolean })[];
    readonly withMedian: number;
    readonly withoutMedian: number;
    /** Median syncs/s with the watchers over the median without. */
    readonly ratio: number;
    /** What the watchers received during the last closed-loop run with them (not a target: the server is saturated). */
    readonly watchDuringWith: WatchReport;
    /** CPU time per sync in the same runs: what the ratio of rates stands for, read through the disk's noise. */
    readonly cpuPerSync: CpuPerSync;
  };
  readonly pacedWithout: { writes: WriteRun; cpu: CpuUse; rss: RssDuring };
  readonly paced: PacedWatchRun & { rss: RssDuring & { idleWatchersBytes: number } };
  readonly fanout: {
    readonly watchers: number;
    readonly steps: FanoutStep[];
    /** The highest rate whose unfiltered p99 stayed under the limit. */
    readonly ceiling?: FanoutStep;
    readonly stoppedBecause: string;
  };
}

/**
 * CPU time per acknowledged sync (µs) in the closed-loop runs. A run's rate swings with what the
 * syncs wait for besides CPU (the fsync of each commit batch, the other processes of the
 * machine); its CPU per sync much less, and the server's CPU per sync is the server's own cost.
 */
export interface CpuPerSync {
  /** The server's, medians of the runs with and without the watchers. */
  readonly serverWith: number;
  readonly serverWithout: number;
  /** For each run with the watchers: its server CPU per sync minus the mean of the two runs without around it. */
  readonly serverAddedPaired: readonly number[];
  readonly serverAddedMedian: number;
  /** The watchers' process, per revision (one sync is one revision), median of the runs with them. */
  readonly watchersProcess: number;
  /** Server, load generator and watchers together (the bench's share of the machine's cores), medians. */
  readonly allWith: number;
  readonly allWithout: number;
  /**
   * The server's CPU time over the run's wall time (1 = one core), medians. A run's rate is this
   * over its CPU per sync: the ratio of rates is the ratio of these times the inverse ratio of
   * the CPU per sync, which separates the server's own cost from its waiting (for a core shared
   * with the writer and the watchers' process, for the disk).
   */
  readonly serverBusyWith: number;
  readonly serverBusyWithout: number;
}

/** A difference with its sign: +12, -3. */
export function signed(d: number): string {
  return `${d >= 0 ? '+' : ''}${fmt(d)}`;
}

export function cpuPerSync(runs: readonly (WriteRun & { watchers: boolean })[]): CpuPerSync {
  const us = (seconds: number | undefined, run: WriteRun) => ((seconds ?? 0) * 1e6) / Math.max(1, run.syncs);
  const server = (run: WriteRun) => us(run.cpu?.serverCpuS, run);
  const all = (run: WriteRun) => us((run.cpu?.serverCpuS ?? 0) + (run.cpu?.clientCpuS ?? 0) + (run.cpu?.helperCpuS ?? 0), run);
  const busy = (run: WriteRun) => (run.cpu ? run.cpu.serverCpuS / Math.max(1e-9, run.cpu.wallS) : Number.NaN);
  const withRuns = runs.filter((run) => run.watchers);
  const withoutRuns = runs.filter((run) => !run.watchers);
  const serverAddedPaired: number[] = [];
  runs.forEach((run, i) => {
    if (!run.watchers) return;
    const around = [runs[i - 1], runs[i + 1]].filter((r) => r !== undefined && !r.watchers);
    if (around.length === 0) return;
    serverAddedPaired.push(server(run) - around.reduce((sum, r) => sum + server(r), 0) / around.length);
  });
  return {
    serverWith: median(withRuns.map(server)),
    serverWithout: median(withoutRuns.map(server)),
    serverAddedPaired,
    serverAddedMedian: median(serverAddedPaired),
    watchersProcess: median(withRuns.map((run) => us(run.cpu?.helperCpuS, run))),
    allWith: median(withRuns.map(all)),
    allWithout: median(withoutRuns.map(all)),
    serverBusyWith: median(withRuns.map(busy)),
    serverBusyWithout: median(withoutRuns.map(busy)),
  };
}

const describeWrites = (w: WriteRun) =>
  `${fmt(w.syncs)} syncs in ${fmt(w.seconds, 2)} s: ${fmt(w.syncsPerSecond)} syncs/s; latency p50 ${fmt(w.latencyMs.p50, 1)} ms, p99 ${fmt(w.latencyMs.p99, 1)} ms` +
  `${w.failures ? `; ${w.failures} FAILED (${w.firstError})` : ''}${w.unchanged ? `; ${w.unchanged} changed nothing` : ''}` +
  `${w.skipped ? `; ${fmt(w.skipped)} skipped (outstanding limit)` : ''}${w.timedOut ? '; TIMED OUT' : ''}`;

const describeClass = (name: string, c: WatchClassReport) =>
  `${name}: ${fmt(c.watchers)} watchers, ${fmt(c.messages)} messages (${fmt(c.events)} events, ${fmt(c.bytes / MB, 1)} MB), ` +
  `latency p50 ${fmt(c.latencyMs.p50, 1)} ms, p99 ${fmt(c.latencyMs.p99, 1)} ms, max ${fmt(c.latencyMs.max, 1)} ms over ${fmt(c.inWindow)}` +
  `${c.failed ? `; ${c.failed} CUT OFF (${c.firstError})` : ''}`;

const median = (values: readonly number[]) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Samples the server's RSS every 200 ms while `body` runs. */
async function sampleRss<T>(pid: number, body: () => Promise<T>): Promise<{ value: T; rss: RssDuring }> {
  const startBytes = readMemory(pid)?.rssBytes ?? Number.NaN;
  let peak = startBytes;
  const sampler = setInterval(() => {
    peak = Math.max(peak, readMemory(pid)?.rssBytes ?? 0);
  }, 200);
  try {
    const value = await body();
    const endBytes = readMemory(pid)?.rssBytes ?? Number.NaN;
    return { value, rss: { startBytes, peakBytes: Math.max(peak, endBytes), endBytes } };
  } finally {
    clearInterval(sampler);
  }
}

export async function measureWatch(params: WatchParams, cpuNote: (cpu: CpuUse) => string): Promise<WatchResult> {
  const { log } = params;
  const t0 = nowMs();
  const churn = new DeviceChurn(params.encoded, params.spec, params.spec.seed + 7);
  const churnSetupMs = nowMs() - t0;
  log(`pre-encoded the device changes of ${fmt(churn.hosts)} hosts in ${fmt(churnSetupMs)} ms`);
  const every = Math.max(1, Math.floor(churn.hosts / Math.max(1, params.hostWatchers)));
  const watchedHosts = Array.from({ length: Math.min(params.hostWatchers, churn.hosts) }, (_, i) => churn.hostIds[i * every]);
  const watchers = await Watchers.start(params.address, params.profileDir, params.watchersNodeOptions ?? []);
  const writer = new SyncWriter(params.address);
  // The watchers' process counts as load generator in every run, watchers attached or not.
  const withAll = <T>(body: () => Promise<T>) => withCpu(params.serverPid, body, [watchers.pid]);
  const openAll = () => watchers.open(params.unfilteredWatchers, watchedHosts, params.hostWatchersPerConnection);
  const paced = (rate: number, seconds: number) =>
    withAll(() => pacedSyncs(writer, churn, { rate, seconds, maxOutstanding: params.maxOutstanding, drainS: 30 }));
  try {
    const closed = { inFlight: params.inFlight, count: params.closedSyncs, timeoutS: params.closedTimeoutS };
    await closedLoopSyncs(writer, churn, { ...closed, count: Math.min(2000, params.closedSyncs) }); // warm-up

    // 1. Paced syncs without, then with every watcher attached: latency and RSS. First, while
    //    the server's heap is closest to its size after seeding (the closed-loop runs grow it).
    log(`${fmt(params.rate)} syncs/s for ${params.seconds} s, without watchers:`);
    const without = await sampleRss(params.serverPid, () => paced(params.rate, params.seconds));
    log(`  writes: ${describeWrites(without.value.value)}`);
    log(`  server RSS ${fmt(without.rss.startBytes / MB)} MB at the start, peak ${fmt(without.rss.peakBytes / MB)} MB, ${fmt(without.rss.endBytes / MB)} MB at the end`);
    log(`  ${cpuNote(without.value.cpu)}`);
    log(`${fmt(params.rate)} syncs/s for ${params.seconds} s with ${fmt(params.unfilteredWatchers)} unfiltered and ${fmt(watchedHosts.length)} host watchers:`);
    const opened = await openAll();
    log(`  (opened the watchers${watchedHosts.length ? `, hosts ${watchedHosts[0]}, ..., every ${every}th` : ''}, ${params.hostWatchersPerConnection === 1 ? 'each on a connection of its own' : `${params.hostWatchersPerConnection} host watchers per connection`}, in ${fmt(opened.ms)} ms)`);
    await sleep(1000);
    const idleWatchersBytes = readMemory(params.serverPid)?.rssBytes ?? Number.NaN;
    await watchers.clear();
    const withWatchers = await sampleRss(params.serverPid, () => paced(params.rate, params.seconds));
    const pacedRun = withWatchers.value;
    const caughtUp = (await watchers.reach(pacedRun.value.lastRevision, 30)).reached;
    await sleep(200); // the host watchers' last messages, which reach() does not wait for
    const pacedWatch = await watchers.report(pacedRun.value.startEpochMs - 1, pacedRun.value.endEpochMs + 1);
    log(`  writes: ${describeWrites(pacedRun.value)}`);
    log(`  ${describeClass('unfiltered', pacedWatch.unfiltered)}`);
    log(
      `  ${describeClass('host-filtered', pacedWatch.host)}; ${fmt(pacedWatch.host.progress)} progress messages${pacedWatch.misrouted ? `; ${pacedWatch.misrouted} MISROUTED` : ''}`,
    );
    const rss = { ...withWatchers.rss, idleWatchersBytes };
    log(
      `  server RSS ${fmt(idleWatchersBytes / MB)} MB with the watchers attached and idle, peak ${fmt(rss.peakBytes / MB)} MB during the run, ${fmt(rss.endBytes / MB)} MB at its end`,
    );
    log(`  ${cpuNote(pacedRun.cpu)}`);
    await watchers.close();

    // 2. Closed-loop throughput: without, then (with, without) x rounds.
    log(`closed loop, ${params.inFlight} in flight, ${fmt(params.closedSyncs)} syncs per run, each changing one device; runs without and with the watchers alternate:`);
    const runs: (WriteRun & { watchers: boolean })[] = [];
    let watchDuringWith: WatchReport | undefined;
    const closedRun = async (attached: boolean) => {
      const run = await withAll(() => closedLoopSyncs(writer, churn, closed));
      runs.push({ ...run.value, cpu: run.cpu, watchers: attached });
      log(`  ${attached ? 'with watchers:   ' : 'without watchers:'} ${describeWrites(run.value)}`);
      const perSync = (seconds: number | undefined) => fmt(((seconds ?? 0) * 1e6) / Math.max(1, run.value.syncs));
      log(
        `    ${cpuNote(run.cpu)}; per sync: server ${perSync(run.cpu.serverCpuS)} µs` +
          `${attached ? `, watchers' process ${perSync(run.cpu.helperCpuS)} µs` : ''}`,
      );
      return run.value;
    };
    await closedRun(false);
    for (let round = 0; round < params.closedRounds; round++) {
      await openAll();
      await sleep(1000);
      await watchers.clear();
      const run = await closedRun(true);
      await watchers.reach(run.lastRevision, 30);
      watchDuringWith = await watchers.report(run.startEpochMs - 1, run.endEpochMs + 1);
      log(`    (${describeClass('unfiltered', watchDuringWith.unfiltered)})`);
      await watchers.close();
      await closedRun(false);
    }
    const withMedian = median(runs.filter((r) => r.watchers).map((r) => r.syncsPerSecond));
    const withoutMedian = median(runs.filter((r) => !r.watchers).map((r) => r.syncsPerSecond));
    const ratio = withMedian / withoutMedian;
    log(`  median with / median without: ${fmt(withMedian)} / ${fmt(withoutMedian)} = ${fmt(ratio, 2)} (the watchers cost writers ${fmt((1 - ratio) * 100)}%)`);
    const cpu = cpuPerSync(runs);
    log(
      `  server CPU per sync, median with / without: ${fmt(cpu.serverWith)} / ${fmt(cpu.serverWithout)} µs; the watchers add ${fmt(cpu.serverAddedMedian)} µs per revision ` +
        `(each run with them against the runs without around it: ${cpu.serverAddedPaired.map(signed).join(', ')} µs)`,
    );
    log(
      `  the watchers' process: ${fmt(cpu.watchersProcess)} µs per revision; server + load generator + watchers: ${fmt(cpu.allWith)} / ${fmt(cpu.allWithout)} µs per sync with / without`,
    );
    log(
      `  the ratio of rates, split: server CPU per sync without / with ${fmt(cpu.serverWithout / cpu.serverWith, 2)} (its own cost) ` +
        `x server busy with / without ${fmt(cpu.serverBusyWith * 100)}% / ${fmt(cpu.serverBusyWithout * 100)}% = ${fmt(cpu.serverBusyWith / cpu.serverBusyWithout, 2)} (its waiting)`,
    );

    // 3. Fan-out ceiling: unfiltered watchers only, the rate stepped up, then refined.
    await watchers.open(params.fanoutWatchers, [], 1);
    log(
      `fan-out: ${fmt(params.fanoutWatchers)} unfiltered watchers, ${params.fanoutStepSeconds} s per step, until their p99 passes ${fmt(params.fanoutP99LimitMs)} ms:`,
    );
    const steps: FanoutStep[] = [];
    const step = async (rate: number): Promise<FanoutStep> => {
      await watchers.clear();
      const run = await paced(rate, params.fanoutStepSeconds);
      const caught = (await watchers.reach(run.value.lastRevision, 30)).reached;
      const watch = await watchers.report(run.value.startEpochMs - 1, run.value.endEpochMs + 1);
      const windowS = Math.max(1e-3, (run.value.endEpochMs - run.value.startEpochMs) / 1000);
      const eventsPerSecond = watch.unfiltered.events / windowS;
      const withinLimit = caught && watch.unfiltered.failed === 0 && watch.unfiltered.latencyMs.p99 < params.fanoutP99LimitMs;
      const writersSaturated = run.value.syncsPerSecond < 0.9 * rate;
      const result = { rate, writes: run.value, watch, caughtUp: caught, cpu: run.cpu, eventsPerSecond, withinLimit, writersSaturated };
      steps.push(result);
      log(
        `  ${fmt(rate)} syncs/s offered: ${fmt(run.value.syncsPerSecond)} acknowledged/s (sync p99 ${fmt(run.value.latencyMs.p99, 1)} ms${run.value.skipped ? `, ${fmt(run.value.skipped)} skipped` : ''}); ` +
          `${fmt(eventsPerSecond)} events/s delivered, unfiltered p50 ${fmt(watch.unfiltered.latencyMs.p50, 1)} ms, p99 ${fmt(watch.unfiltered.latencyMs.p99, 1)} ms` +
          `${watch.unfiltered.failed ? `, ${watch.unfiltered.failed} CUT OFF (${watch.unfiltered.firstError})` : ''}${caught ? '' : ', DID NOT CATCH UP'}`,
      );
      log(`    ${cpuNote(run.cpu)}`);
      return result;
    };
    let good: number | undefined;
    let bad: number | undefined;
    for (const rate of params.fanoutRates) {
      const s = await step(rate);
      if (!s.withinLimit) {
        bad = rate;
        break;
      }
      good = rate;
      if (s.writersSaturated) break; // a higher offered rate cannot raise the delivered one
    }
    for (let i = 0; i < params.fanoutRefinements && good !== undefined && bad !== undefined; i++) {
      const rate = Math.round((good + bad) / 2);
      if (rate === good || rate === bad) break;
      if ((await step(rate)).withinLimit) good = rate;
      else bad = rate;
    }
    const within = steps.filter((s) => s.withinLimit);
    const ceiling = within.length === 0 ? undefined : within.reduce((best, s) => (s.eventsPerSecond > best.eventsPerSecond ? s : best));
    const first = bad === undefined ? undefined : steps.find((s) => s.rate === bad);
    const saturatedAt = steps.find((s) => s.writersSaturated);
    const stoppedBecause =
      first !== undefined
        ? `at ${fmt(first.rate)} syncs/s offered (${fmt(first.writes.syncsPerSecond)} acknowledged) the unfiltered p99 was ${fmt(first.watch.unfiltered.latencyMs.p99)} ms` +
          `${first.writersSaturated ? '; the server was also saturated by the writes' : ''}`
        : saturatedAt !== undefined
          ? `the writes saturated the server at ${fmt(saturatedAt.writes.syncsPerSecond)} syncs/s (${fmt(saturatedAt.rate)} offered) with the p99 still under ${fmt(params.fanoutP99LimitMs)} ms`
          : `the last rate tried (${fmt(params.fanoutRates.at(-1) ?? 0)} syncs/s) stayed under the limit`;
    log(`  fan-out ceiling: ${ceiling ? `${fmt(ceiling.eventsPerSecond)} events/s at ${fmt(ceiling.rate)} syncs/s` : 'none'}; ${stoppedBecause}`);
    await watchers.close();
    return {
      churnSetupMs,
      watchedHosts: { first: watchedHosts[0], last: watchedHosts.at(-1)!, every },
      openMs: opened.ms,
      throughput: { runs, withMedian, withoutMedian, ratio, watchDuringWith: watchDuringWith!, cpuPerSync: cpu },
      pacedWithout: { writes: without.value.value, cpu: without.value.cpu, rss: without.rss },
      paced: { writes: pacedRun.value, watch: pacedWatch, caughtUp, cpu: pacedRun.cpu, rss },
      fanout: { watchers: params.fanoutWatchers, steps, ceiling, stoppedBecause },
    };
  } finally {
    writer.close();
    await watchers.stop();
  }
}
