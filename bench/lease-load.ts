// The lease phase (bench/run.ts, `--only lease`), against a server of its own started with a
// short lease TTL: host agents' keepalives at a paced rate over KeepAlive streams, then every
// host's keepalives stopped at once, and each host's UNREACHABLE change timed as a watcher
// receives it, against the lease expiry the server last announced to that host.
// Every loop is bounded in count and in time.

import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../proto/load.ts';
import { withCpu, type CpuUse } from './load.ts';
import { readKeepAliveResponse, type KeepAliveAnswer } from './protowire.ts';
import { fmt, nowMs, sleep, summarize, wallNowMs, type LatencySummary } from './stats.ts';

const identity = (bytes: Buffer) => bytes;
const HOST_STATE_READY = 1;

export interface LeaseParams {
  readonly address: string;
  readonly serverPid: number;
  readonly hostIds: readonly string[];
  /** Keepalives per second, over all hosts (each host in turn). */
  readonly rate: number;
  readonly seconds: number;
  /** KeepAlive streams; host i uses stream i % streams. */
  readonly streams: number;
  /** At most the server's --max-request-streams-per-connection (32); more are refused. */
  readonly streamsPerConnection: number;
  readonly maxOutstanding: number;
  readonly log: (line: string) => void;
}

export interface LeaseResult {
  readonly hosts: number;
  readonly streams: number;
  readonly connections: number;
  /** The TTL the server reports in its answers. */
  readonly ttlMs: number;
  readonly sustained: {
    readonly targetRate: number;
    readonly sent: number;
    readonly answered: number;
    readonly skipped: number;
    readonly seconds: number;
    readonly answersPerSecond: number;
    readonly latencyMs: LatencySummary;
    readonly errors: number;
    readonly firstError?: string;
    /** Answers whose state was not READY. */
    readonly notReady: number;
    /** UNREACHABLE changes a watcher received while the keepalives ran (should be 0). */
    readonly unreachableEvents: number;
    readonly cpu: CpuUse;
  };
  readonly stop: {
    /** From the first to the last keepalive of the final round, sent back to back. */
    readonly sendMs: number;
    /** Last lease expiry minus first, over the hosts: how "at once" they lapse. */
    readonly expirySpreadMs: number;
  };
  readonly expiry: {
    readonly recorded: number;
    readonly missing: number;
    /** Receipt of each host's UNREACHABLE change minus its lease expiry. */
    readonly latenessMs: LatencySummary;
    /** The change's recorded time (WatchResponse.time) minus the lease expiry. */
    readonly recordedTimeOffsetMs: LatencySummary;
    readonly withinTtl: number;
    /** Distinct revisions the expiries were recorded in (one per host expected). */
    readonly revisions: number;
    /** First and last receipt, in ms after the first lease expired. */
    readonly firstReceivedMs: number;
    readonly lastReceivedMs: number;
    readonly timedOut: boolean;
  };
}

interface Pending {
  readonly host: number;
  readonly sentAt: number;
}

interface Unreachable {
  readonly receivedMs: number;
  readonly timeMs: number;
  readonly revision: string;
}

type WatchMessage = {
  revision: string;
  time: { seconds: string; nanos: number } | null;
  events: { resource: string; after: { host?: { state: string } } | null }[];
};

export async function measureLeases(params: LeaseParams, cpuNote: (cpu: CpuUse) => string): Promise<LeaseResult> {
  const { log, hostIds } = params;
  const services = loadServices();
  const keepAlive = services.RegistryService.service.KeepAlive;
  const watchMethod = services.WatchService.service.Watch;
  const requests = hostIds.map((id) => keepAlive.requestSerialize({ name: `hosts/${id}` }));
  const indexOf = new Map(hostIds.map((id, i) => [`hosts/${id}`, i]));
  const clients: grpc.Client[] = [];
  const newClient = () => {
    const client = new grpc.Client(params.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    clients.push(client);
    return client;
  };

  // A watcher records every UNREACHABLE change from the start.
  const unreachable = new Map<string, Unreachable>();
  let watchCreated = false;
  let watchError: string | undefined;
  const watch = newClient().makeServerStreamRequest<Buffer, WatchMessage>(
    watchMethod.path,
    identity,
    watchMethod.responseDeserialize as (bytes: Buffer) => WatchMessage,
    watchMethod.requestSerialize({ start_revision: '0' }),
  );
  watch.on('data', (message: WatchMessage & { created?: boolean }) => {
    const receivedMs = wallNowMs();
    if (message.created) watchCreated = true;
    const timeMs = message.time ? Number(message.time.seconds) * 1000 + message.time.nanos / 1e6 : Number.NaN;
    for (const event of message.events) {
      if (event.after?.host?.state === 'HOST_STATE_UNREACHABLE' && !unreachable.has(event.resource)) {
        unreachable.set(event.resource, { receivedMs, timeMs, revision: message.revision });
      }
    }
  });
  watch.on('error', (error: grpc.ServiceError) => {
    if (error.code !== grpc.status.CANCELLED) watchError = `${grpc.status[error.code]}: ${error.details}`;
  });

  // KeepAlive streams; answers come in order on each stream.
  const latencies: number[] = [];
  const lastAnswer: (KeepAliveAnswer | undefined)[] = new Array(hostIds.length);
  let answered = 0;
  let errors = 0;
  let firstError: string | undefined;
  let notReady = 0;
  let outstanding = 0;
  let record = true;
  let client: grpc.Client | undefined;
  const streams = Array.from({ length: Math.min(params.streams, hostIds.length) }, (_, s) => {
    if (s % params.streamsPerConnection === 0) client = newClient();
    const call = client!.makeBidiStreamRequest<Buffer, KeepAliveAnswer>(keepAlive.path, identity, readKeepAliveResponse);
    const queue: Pending[] = [];
    let head = 0;
    call.on('data', (answer: KeepAliveAnswer) => {
      const pending = queue[head++];
      if (head > 1024) {
        queue.splice(0, head);
        head = 0;
      }
      outstanding--;
      answered++;
      if (record) latencies.push(nowMs() - pending.sentAt);
      if (answer.error) {
        errors++;
        firstError ??= `${answer.name}: error in the answer`;
      } else if (answer.state !== HOST_STATE_READY) {
        notReady++;
      }
      if (answer.name !== `hosts/${hostIds[pending.host]}` && !answer.error) {
        errors++;
        firstError ??= `answer for ${answer.name} where hosts/${hostIds[pending.host]} was expected`;
      }
      lastAnswer[pending.host] = answer;
    });
    call.on('error', (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) {
        errors++;
        firstError ??= `stream ${s}: ${grpc.status[error.code]}: ${error.details}`;
      }
    });
    return {
      call,
      send(host: number) {
        queue.push({ host, sentAt: nowMs() });
        outstanding++;
        call.write(requests[host]);
      },
    };
  });
  const connections = clients.length - 1;
  const sendTo = (host: number) => streams[host % streams.length].send(host);

  try {
    const watchDeadline = nowMs() + 10_000;
    while (!watchCreated && !watchError && nowMs() < watchDeadline) await sleep(5);
    if (!watchCreated) throw new Error(`the lease watch was not created: ${watchError ?? 'timed out'}`);

    // 1. Sustained keepalives.
    log(
      `${fmt(params.rate)} keepalives/s for ${params.seconds} s over ${fmt(streams.length)} KeepAlive streams on ${fmt(connections)} connections, ${fmt(hostIds.length)} hosts in turn:`,
    );
    let sent = 0;
    let skipped = 0;
    const sustained = await withCpu(params.serverPid, async () => {
      const start = nowMs();
      const end = start + params.seconds * 1000;
      let due = 0;
      for (;;) {
        const now = nowMs();
        if (now >= end) break;
        const target = Math.floor(((now - start) / 1000) * params.rate) + 1;
        while (due < target) {
          if (outstanding >= params.maxOutstanding) skipped++;
          else {
            sendTo(due % hostIds.length);
            sent++;
          }
          due++;
        }
        await sleep(1);
      }
      const deadline = nowMs() + 10_000;
      while (outstanding > 0 && nowMs() < deadline) await sleep(2);
      return (nowMs() - start) / 1000;
    });
    const seconds = sustained.value;
    const unreachableDuring = unreachable.size;
    const sustainedResult = {
      targetRate: params.rate,
      sent,
      answered,
      skipped,
      seconds,
      answersPerSecond: answered / seconds,
      latencyMs: summarize(latencies),
      errors,
      firstError,
      notReady,
      unreachableEvents: unreachableDuring,
      cpu: sustained.cpu,
    };
    log(
      `  ${fmt(answered)} of ${fmt(sent)} answered in ${fmt(seconds, 2)} s: ${fmt(sustainedResult.answersPerSecond)}/s; latency p50 ${fmt(sustainedResult.latencyMs.p50, 2)} ms, ` +
        `p99 ${fmt(sustainedResult.latencyMs.p99, 2)} ms, max ${fmt(sustainedResult.latencyMs.max, 1)} ms; ${errors} errors${firstError ? ` (${firstError})` : ''}; ` +
        `${notReady} answers not READY; ${unreachableDuring} hosts went UNREACHABLE${skipped ? `; ${fmt(skipped)} skipped` : ''}`,
    );
    log(`  ${cpuNote(sustained.cpu)}`);

    // 2. One last keepalive for every host, back to back, then none.
    record = false;
    const t0 = nowMs();
    for (let h = 0; h < hostIds.length; h++) sendTo(h);
    const sendMs = nowMs() - t0;
    const answerDeadline = nowMs() + 10_000;
    while (outstanding > 0 && nowMs() < answerDeadline) await sleep(1);
    for (const stream of streams) stream.call.end();
    const expiries = lastAnswer.map((a) => a?.expireMs ?? Number.NaN);
    const ttlMs = lastAnswer.find((a) => a !== undefined)?.ttlMs ?? Number.NaN;
    const firstExpiry = Math.min(...expiries);
    const lastExpiry = Math.max(...expiries);
    log(
      `stopped the keepalives of all ${fmt(hostIds.length)} hosts at once (last round sent in ${fmt(sendMs, 1)} ms); their leases (TTL ${fmt(ttlMs)} ms) ` +
        `expire within ${fmt(lastExpiry - firstExpiry, 1)} ms of each other`,
    );

    // 3. Every host's UNREACHABLE change, timed against its lease expiry.
    const expiryDeadline = lastExpiry + 2 * ttlMs + 5000;
    const expected = hostIds.map((id) => `hosts/${id}`);
    while (expected.some((name) => !unreachable.has(name)) && wallNowMs() < expiryDeadline && !watchError) await sleep(10);
    const lateness: number[] = [];
    const receipts: number[] = [];
    const offsets: number[] = [];
    const revisions = new Set<string>();
    let withinTtl = 0;
    for (const name of expected) {
      const seen = unreachable.get(name);
      if (!seen) continue;
      const expiry = expiries[indexOf.get(name)!];
      lateness.push(seen.receivedMs - expiry);
      receipts.push(seen.receivedMs - firstExpiry);
      offsets.push(seen.timeMs - expiry);
      revisions.add(seen.revision);
      if (seen.receivedMs - expiry <= ttlMs) withinTtl++;
    }
    const recorded = lateness.length;
    const expiry = {
      recorded,
      missing: expected.length - recorded,
      latenessMs: summarize(lateness),
      recordedTimeOffsetMs: summarize(offsets),
      withinTtl,
      revisions: revisions.size,
      firstReceivedMs: Math.min(...receipts),
      lastReceivedMs: Math.max(...receipts),
      timedOut: recorded < expected.length,
    };
    log(
      `  ${fmt(recorded)} of ${fmt(expected.length)} UNREACHABLE changes received${watchError ? ` (watch failed: ${watchError})` : ''}, in ${fmt(revisions.size)} revisions; ` +
        `after the lease expiry: p50 ${fmt(expiry.latenessMs.p50, 1)} ms, p99 ${fmt(expiry.latenessMs.p99, 1)} ms, max ${fmt(expiry.latenessMs.max, 1)} ms; ` +
        `${fmt(withinTtl)} within one TTL; received from ${fmt(expiry.firstReceivedMs, 1)} to ${fmt(expiry.lastReceivedMs, 1)} ms after the first lease expired; ` +
        `recorded time minus expiry: ${fmt(expiry.recordedTimeOffsetMs.min, 1)} to ${fmt(expiry.recordedTimeOffsetMs.max, 1)} ms`,
    );
    return {
      hosts: hostIds.length,
      streams: streams.length,
      connections,
      ttlMs,
      sustained: sustainedResult,
      stop: { sendMs, expirySpreadMs: lastExpiry - firstExpiry },
      expiry,
    };
  } finally {
    watch.cancel();
    for (const stream of streams) stream.call.cancel();
    for (const c of clients) c.close();
  }
}
