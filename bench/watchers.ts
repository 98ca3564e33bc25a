// The watch phase's watchers, in a process of their own (started by bench/watch-load.ts, driven
// over the IPC channel): unfiltered watchers (schedulers) and watchers filtered to one host
// each (host agents), each on its own gRPC connection unless told to share.
//
// Why a separate process: on two cores, the watchers' receive path (HTTP/2 frames, a message
// per revision per watcher) would otherwise run on the same event loop as the writers whose
// throughput is measured, and delay both their pacing and the watchers' own receipt times.
// Apart, each has its own event loop and its CPU time is accounted separately.
//
// Each message is timed on arrival: receipt (this machine's wall clock, sub-millisecond) minus
// the revision's commit time carried in WatchResponse.time (the server's wall clock, whole
// milliseconds, taken when the batch is planned, before the fsync). Only the fields needed
// are read from the wire bytes (bench/protowire.ts), so that the watchers cost little CPU.
//
//   node --import tsx bench/watchers.ts --address 127.0.0.1:port   (IPC channel required)

import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { loadServices } from '../proto/load.ts';
import { readWatchHeader } from './protowire.ts';
import { summarize, wallNowMs, type LatencySummary } from './stats.ts';

const { values } = parseArgs({ options: { address: { type: 'string' } }, strict: true });
if (!values.address) throw new Error('--address is required');
if (!process.send) throw new Error('bench/watchers.ts must be started with an IPC channel');
const address = values.address;
const send = (message: object) => process.send!(message);

const method = loadServices().WatchService.service.Watch;
const identity = (bytes: Buffer) => bytes;

/** Growable (commit time, latency) pairs, in ms. */
class Samples {
  commit = new Float64Array(1 << 16);
  latency = new Float64Array(1 << 16);
  size = 0;
  /** A bound on memory: 4 M samples (64 MB); past it, samples are counted, not kept. */
  static readonly MAX = 4_000_000;
  dropped = 0;

  add(commitMs: number, latencyMs: number): void {
    if (this.size === this.commit.length) {
      if (this.size >= Samples.MAX) {
        this.dropped++;
        return;
      }
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.commit = grow(this.commit);
      this.latency = grow(this.latency);
    }
    this.commit[this.size] = commitMs;
    this.latency[this.size] = latencyMs;
    this.size++;
  }

  clear(): void {
    this.size = 0;
    this.dropped = 0;
  }

  window(fromMs: number, toMs: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.commit[i] >= fromMs && this.commit[i] < toMs) out.push(this.latency[i]);
    return out;
  }
}

type Kind = 'unfiltered' | 'host';

interface Watcher {
  readonly kind: Kind;
  readonly client: grpc.Client;
  readonly host: string;
  readonly call: grpc.ClientReadableStream<Buffer>;
  created: boolean;
  lastRevision: number;
  ended: boolean;
  error?: string;
}

const samples: Record<Kind, Samples> = { unfiltered: new Samples(), host: new Samples() };
const counts = {
  unfiltered: { messages: 0, events: 0, progress: 0, bytes: 0 },
  host: { messages: 0, events: 0, progress: 0, bytes: 0 },
};
let misrouted = 0;
let watchers: Watcher[] = [];

function newClient(): grpc.Client {
  // A local subchannel pool: a connection of its own, as a separate scheduler or agent has.
  return new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

function openWatch(client: grpc.Client, kind: Kind, host: string): Watcher {
  const request = method.requestSerialize({ start_revision: '0', filter: host ? { host } : {} });
  const call = client.makeServerStreamRequest<Buffer, Buffer>(method.path, identity, identity, request);
  const watcher: Watcher = { kind, client, host, call, created: false, lastRevision: 0, ended: false };
  const prefix = `hosts/${host}/`;
  const count = counts[kind];
  const kept = samples[kind];
  call.on('data', (bytes: Buffer) => {
    const receivedMs = wallNowMs();
    const header = readWatchHeader(bytes);
    count.bytes += bytes.length;
    if (header.created) {
      watcher.created = true;
      watcher.lastRevision = header.revision;
      return;
    }
    if (header.progress) {
      count.progress++;
      return;
    }
    count.messages++;
    count.events += header.events;
    watcher.lastRevision = header.revision;
    kept.add(header.timeMs, receivedMs - header.timeMs);
    if (host && !header.firstResource.startsWith(prefix)) misrouted++;
  });
  call.on('error', (error: grpc.ServiceError) => {
    watcher.ended = true;
    if (error.code !== grpc.status.CANCELLED) watcher.error = `${grpc.status[error.code]}: ${error.details}`;
  });
  call.on('end', () => {
    watcher.ended = true;
  });
  return watcher;
}

async function open(unfiltered: number, hosts: readonly string[], hostsPerConnection: number, timeoutMs: number) {
  const t0 = performance.now();
  for (let i = 0; i < unfiltered; i++) watchers.push(openWatch(newClient(), 'unfiltered', ''));
  let client: grpc.Client | undefined;
  hosts.forEach((host, i) => {
    if (i % hostsPerConnection === 0) client = newClient();
    watchers.push(openWatch(client!, 'host', host));
  });
  const deadline = t0 + timeoutMs;
  while (watchers.some((w) => !w.created && !w.ended) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return {
    opened: watchers.filter((w) => w.created).length,
    failed: watchers.filter((w) => w.ended).map((w) => w.error).slice(0, 3),
    ms: performance.now() - t0,
  };
}

function close(kind?: Kind) {
  const closing = watchers.filter((w) => kind === undefined || w.kind === kind);
  for (const w of closing) w.call.cancel();
  watchers = watchers.filter((w) => !closing.includes(w));
  const inUse = new Set(watchers.map((w) => w.client));
  for (const client of new Set(closing.map((w) => w.client))) if (!inUse.has(client)) client.close();
  return { closed: closing.length, open: watchers.length };
}

interface ClassReport {
  readonly watchers: number;
  readonly messages: number;
  readonly events: number;
  readonly progress: number;
  readonly bytes: number;
  /** Messages whose revision was committed inside the window. */
  readonly inWindow: number;
  readonly latencyMs: LatencySummary;
  readonly minLastRevision: number;
  readonly failed: number;
  readonly firstError?: string;
  readonly dropped: number;
}

function report(fromMs: number, toMs: number): { unfiltered: ClassReport; host: ClassReport; misrouted: number } {
  const of = (kind: Kind): ClassReport => {
    const mine = watchers.filter((w) => w.kind === kind);
    const window = samples[kind].window(fromMs, toMs);
    const failed = mine.filter((w) => w.error !== undefined);
    return {
      watchers: mine.length,
      ...counts[kind],
      inWindow: window.length,
      latencyMs: summarize(window),
      minLastRevision: mine.length === 0 ? 0 : Math.min(...mine.map((w) => w.lastRevision)),
      failed: failed.length,
      firstError: failed[0]?.error,
      dropped: samples[kind].dropped,
    };
  };
  return { unfiltered: of('unfiltered'), host: of('host'), misrouted };
}

function clear() {
  for (const kind of ['unfiltered', 'host'] as const) {
    samples[kind].clear();
    Object.assign(counts[kind], { messages: 0, events: 0, progress: 0, bytes: 0 });
  }
  misrouted = 0;
}

/** Waits until every live unfiltered watcher has received `revision` (bounded). */
async function reach(revision: number, timeoutMs: number) {
  const t0 = performance.now();
  const behind = () => watchers.some((w) => w.kind === 'unfiltered' && !w.ended && w.lastRevision < revision);
  while (behind() && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  return { reached: !behind(), ms: performance.now() - t0 };
}

type Command =
  | { id: number; type: 'open'; unfiltered: number; hosts: string[]; hostsPerConnection: number; timeoutMs: number }
  | { id: number; type: 'close'; kind?: Kind }
  | { id: number; type: 'clear' }
  | { id: number; type: 'report'; fromMs: number; toMs: number }
  | { id: number; type: 'reach'; revision: number; timeoutMs: number };

process.on('message', (command: Command) => {
  const answer = async () => {
    switch (command.type) {
      case 'open':
        return open(command.unfiltered, command.hosts, command.hostsPerConnection, command.timeoutMs);
      case 'close':
        return close(command.kind);
      case 'clear':
        return clear();
      case 'report':
        return report(command.fromMs, command.toMs);
      case 'reach':
        return reach(command.revision, command.timeoutMs);
    }
  };
  answer().then(
    (value) => send({ id: command.id, value: value ?? null }),
    (error: unknown) => send({ id: command.id, error: (error as Error).stack ?? String(error) }),
  );
});
process.on('disconnect', () => {
  close();
  process.exit(0);
});
send({ type: 'ready', pid: process.pid });
