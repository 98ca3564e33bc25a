// Watch latency across replicas, for the postgres phase (bench/postgres-phase.ts): one
// unfiltered watcher on every replica, then paced syncs that change one device each, spread
// round-robin over the replicas; for each acknowledged revision, the time from its
// acknowledgement (the SyncHost answer reaching the writer) to its event reaching the watcher
// of each replica. "Every replica" is, per revision, the last of them: when the registry's
// change is visible everywhere. The writer's own replica and the others are reported apart, as
// the others learn of the revision from the database (NOTIFY, then a read of the revision).
//
// The writers and the watchers share this process's event loop and clock (nowMs), which at
// tens of syncs per second costs little; an event can reach the writer's replica's watcher
// before the answer reaches the writer, which counts as 0 ms (and is counted apart). The
// same revisions are also timed from their commit (WatchResponse.time, the writing
// replica's wall clock, whole milliseconds, taken before the commit) to the last replica's
// receipt, as the watch phase times commit to receipt on one server.
// Every loop is bounded: the paced writes by count and time, the wait for the events by time.

import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../proto/load.ts';
import { withCpu, type CpuUse, type PidLister } from './load.ts';
import { readWatchHeader } from './protowire.ts';
import { nowMs, sleep, summarize, wallNowMs, type LatencySummary } from './stats.ts';
import { pacedSyncs, SyncWriter, type DeviceChurn, type SyncSender, type WriteRun } from './watch-load.ts';

export interface ReplicaWatchParams {
  /** The replicas' addresses (one for a single server). */
  readonly addresses: readonly string[];
  readonly churn: DeviceChurn;
  /** Syncs per second, spread over the replicas. */
  readonly rate: number;
  readonly seconds: number;
  readonly maxOutstanding: number;
  /** How long to wait, after the last answer, for every event on every replica. */
  readonly settleS: number;
  readonly serverPids: readonly number[];
  /** Other processes whose CPU is the system under test's (the database's). */
  readonly helperPids: PidLister;
}

export interface ReplicaWatchRun {
  readonly writes: WriteRun;
  /** Acknowledged revisions whose events were awaited. */
  readonly revisions: number;
  /** Per revision, acknowledgement to receipt on the last replica to deliver it. */
  readonly everyReplicaMs: LatencySummary;
  /** Acknowledgement to receipt on the replica that took the write. */
  readonly writerReplicaMs: LatencySummary;
  /** Per revision, its commit time to receipt on the last replica to deliver it. */
  readonly everyReplicaFromCommitMs: LatencySummary;
  /** Acknowledgement to receipt on the other replicas (absent with one replica). */
  readonly otherReplicasMs?: LatencySummary;
  /** (revision, replica) receipts that came before the acknowledgement (counted as 0 ms). */
  readonly beforeAck: number;
  /** (revision, replica) pairs never received within the settle time. */
  readonly missing: number;
  /** Watch streams that failed. */
  readonly watcherErrors: string[];
  readonly cpu: CpuUse;
}

/** Sends each sync through the next replica in turn and notes when each revision was acknowledged. */
class SpreadWriter implements SyncSender {
  private readonly writers: SyncWriter[];
  private next = 0;
  /** revision -> [acknowledged at (nowMs), replica index] */
  readonly acks = new Map<number, [number, number]>();

  constructor(addresses: readonly string[]) {
    this.writers = addresses.map((address) => new SyncWriter(address));
  }

  async send(bytes: Buffer): Promise<{ revision: number; changed: boolean }> {
    const replica = this.next++ % this.writers.length;
    const response = await this.writers[replica].send(bytes);
    if (response.changed) this.acks.set(response.revision, [nowMs(), replica]);
    return response;
  }

  close(): void {
    for (const writer of this.writers) writer.close();
  }
}

/** An unfiltered watch from now on one replica, noting when each revision arrived. */
class ReplicaWatcher {
  readonly arrivals = new Map<number, number>();
  /** revision -> receipt minus commit time, wall clocks, ms */
  readonly sinceCommit = new Map<number, number>();
  created = false;
  lastRevision = 0;
  error: string | undefined;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientReadableStream<Buffer>;

  constructor(address: string) {
    const method = loadServices().WatchService.service.Watch;
    const identity = (bytes: Buffer) => bytes;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    this.call = this.client.makeServerStreamRequest<Buffer, Buffer>(method.path, identity, identity, method.requestSerialize({ start_revision: '0', filter: {} }));
    this.call.on('data', (bytes: Buffer) => {
      const at = nowMs();
      const header = readWatchHeader(bytes);
      if (header.created) {
        this.created = true;
        return;
      }
      if (header.progress) return;
      this.arrivals.set(header.revision, at);
      this.sinceCommit.set(header.revision, wallNowMs() - header.timeMs);
      this.lastRevision = Math.max(this.lastRevision, header.revision);
    });
    this.call.on('error', (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) this.error = `${grpc.status[error.code]}: ${error.details}`;
    });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  while (!condition()) {
    if (nowMs() > deadline) return false;
    await sleep(5);
  }
  return true;
}

export async function measureReplicaWatch(params: ReplicaWatchParams): Promise<ReplicaWatchRun> {
  const watchers = params.addresses.map((address) => new ReplicaWatcher(address));
  const writer = new SpreadWriter(params.addresses);
  try {
    if (!(await until(() => watchers.every((w) => w.created || w.error !== undefined), 30_000)) || watchers.some((w) => !w.created)) {
      throw new Error(`the watches were not created: ${watchers.map((w) => w.error ?? (w.created ? 'ok' : 'no answer')).join('; ')}`);
    }
    const run = await withCpu(
      params.serverPids,
      () => pacedSyncs(writer, params.churn, { rate: params.rate, seconds: params.seconds, maxOutstanding: params.maxOutstanding, drainS: 60 }),
      params.helperPids,
    );
    const revisions = [...writer.acks.keys()];
    const last = Math.max(0, ...revisions);
    await until(() => watchers.every((w) => w.lastRevision >= last || w.error !== undefined), params.settleS * 1000);

    const every: number[] = [];
    const everyFromCommit: number[] = [];
    const own: number[] = [];
    const others: number[] = [];
    let beforeAck = 0;
    let missing = 0;
    for (const [revision, [ackedAt, replica]] of writer.acks) {
      let slowest = 0;
      let complete = true;
      watchers.forEach((watcher, i) => {
        const arrived = watcher.arrivals.get(revision);
        if (arrived === undefined) {
          missing++;
          complete = false;
          return;
        }
        if (arrived < ackedAt) beforeAck++;
        const latency = Math.max(0, arrived - ackedAt);
        slowest = Math.max(slowest, latency);
        (i === replica ? own : others).push(latency);
      });
      if (complete) {
        every.push(slowest);
        everyFromCommit.push(Math.max(...watchers.map((watcher) => watcher.sinceCommit.get(revision)!)));
      }
    }
    return {
      writes: run.value,
      revisions: revisions.length,
      everyReplicaMs: summarize(every),
      everyReplicaFromCommitMs: summarize(everyFromCommit),
      writerReplicaMs: summarize(own),
      ...(watchers.length > 1 ? { otherReplicasMs: summarize(others) } : {}),
      beforeAck,
      missing,
      watcherErrors: watchers.flatMap((w) => (w.error === undefined ? [] : [w.error])),
      cpu: run.cpu,
    };
  } finally {
    writer.close();
    for (const watcher of watchers) watcher.close();
  }
}
