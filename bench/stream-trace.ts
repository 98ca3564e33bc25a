// Where one CheckCompatibilityStream's time goes, seen from the client (`npx tsx
// bench/stream-trace.ts [--hosts 300] [--checks 100000] [--window 8] [--fcw bytes]`): a real
// server process (the compiled build) on a seeded fleet, the real client's CheckStream with the
// stream phase's load (bench/load.ts streamLoad), and, per round:
// - how long the client's event loop sat idle (waiting for the server) and its utilisation;
// - how often, when idle, the client still held request bytes it could not send (the server's
//   HTTP/2 flow-control window was full): sampled each millisecond the loop is free;
// - messages outstanding at the server over time, per-message round trip, response size;
// - the response memo's hits and misses (client/check-stream-codec.ts).
// A diagnostic for issue 7 (docs/benchmarks.md, "What the round trip was, and the fix"); it
// hooks node:http2's connect and the client's private call factory, so it is not a benchmark.

import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DevcompatClient } from '../client/client.ts';
import { memoStats } from '../client/result-memo.ts';
import { encodeSyncRequests, pairPool, streamLoad, syncFleet, withCpu } from './load.ts';
import { prepareServerBuild, serverEntryArgs, startChild } from './processes.ts';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '300' },
    checks: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '2' },
    window: { type: 'string', default: '8' },
    fcw: { type: 'string' },
  },
});
const spec = { hosts: Number(values.hosts), seed: 1 };

// Every HTTP/2 session the client opens, to sample its streams' unsent bytes.
const sessions: http2.ClientHttp2Session[] = [];
const connect = http2.connect;
(http2 as { connect: unknown }).connect = (...args: Parameters<typeof http2.connect>) => {
  const session = connect(...args);
  sessions.push(session);
  return session;
};
const stateSymbol = (session: object) => Object.getOwnPropertySymbols(session).find((symbol) => String(symbol) === 'Symbol(state)');
const samples = { idleMs: 0, unsentRequestBytes: 0 };
let sampling = false;
setInterval(() => {
  if (!sampling) return;
  samples.idleMs++;
  for (const session of sessions) {
    if (session.destroyed) continue;
    const symbol = stateSymbol(session);
    const streams = symbol ? ((session as unknown as Record<symbol, { streams?: Map<number, http2.Http2Stream> }>)[symbol].streams ?? new Map()) : new Map();
    for (const stream of streams.values()) if (!stream.destroyed && stream.writableLength > 0) samples.unsentRequestBytes++;
  }
}, 1).unref();

prepareServerBuild('dist');
const dir = mkdtempSync(path.join(os.tmpdir(), 'devcompat-stream-trace-'));
const server = await startChild({
  name: 'devcompat server',
  args: [...serverEntryArgs(), '--db', path.join(dir, 'bench.db'), '--address', '127.0.0.1:0'],
  readyMsg: 'devcompat serving',
  timeoutMs: 180_000,
});
const channelOptions = values.fcw ? { 'grpc-node.flow_control_window': Number(values.fcw) } : {};
const client = new DevcompatClient({ address: server.address, actor: 'bench', channelOptions });

// Writes and responses of the stream, timed.
const events: { at: number; kind: 'write' | 'response' }[] = [];
const sizes: number[] = [];
type CallFactory = { makeBidiStreamRequest: (...args: any[]) => any };
function timeCalls(service: CallFactory): CallFactory {
  const makeCall = service.makeBidiStreamRequest.bind(service);
  service.makeBidiStreamRequest = (method: string, serialize: unknown, deserialize: (bytes: Buffer) => unknown, ...rest: unknown[]) => {
    const call = makeCall(method, serialize, (bytes: Buffer) => {
      sizes.push(bytes.length);
      return deserialize(bytes);
    }, ...rest);
    const write = call.write.bind(call);
    call.write = (bytes: Buffer) => {
      events.push({ at: performance.now(), kind: 'write' });
      return write(bytes);
    };
    call.prependListener('data', () => events.push({ at: performance.now(), kind: 'response' }));
    return call;
  };
  return service;
}
// The check stream's own channel (client.ts, since issue 7's fix), or the shared one before it.
const internals = client as unknown as { openCheckStreamService?: () => CallFactory; compatibility: CallFactory };
const openService = internals.openCheckStreamService;
if (openService) internals.openCheckStreamService = () => timeCalls(openService());
else timeCalls(internals.compatibility);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
try {
  const synced = await syncFleet(server.address, encodeSyncRequests(spec), { hosts: spec.hosts, inFlight: 16, timeoutS: 300 });
  if (synced.failures > 0) throw new Error(`sync failed: ${synced.firstError}`);
  const pairs = pairPool(spec, 20_000, spec.seed);
  const params = { batch: 500, window: Number(values.window), timeoutS: 600 };
  await streamLoad(client, pairs, 20_000, params); // warm-up
  for (let round = 1; round <= Number(values.rounds); round++) {
    events.length = 0;
    sizes.length = 0;
    Object.assign(memoStats, { hits: 0, misses: 0, resets: 0 });
    Object.assign(samples, { idleMs: 0, unsentRequestBytes: 0 });
    sampling = true;
    const elu0 = performance.eventLoopUtilization();
    const { value, cpu } = await withCpu(server.pid, () => streamLoad(client, pairs, Number(values.checks), params));
    const elu = performance.eventLoopUtilization(elu0);
    sampling = false;
    let outstanding = 0;
    const timeAt = new Map<number, number>();
    const writes: number[] = [];
    const responses: number[] = [];
    for (let i = 0; i < events.length; i++) {
      const { at, kind } = events[i];
      if (i > 0) timeAt.set(outstanding, (timeAt.get(outstanding) ?? 0) + at - events[i - 1].at);
      if (kind === 'write') {
        outstanding++;
        writes.push(at);
      } else {
        outstanding--;
        responses.push(at);
      }
    }
    const span = events.at(-1)!.at - events[0].at;
    console.log(
      `round ${round}: ${value.checks} checks in ${value.seconds.toFixed(2)} s (${Math.round(value.checksPerSecond)}/s); ` +
        `CPU client ${cpu.clientCpuS.toFixed(2)} s, server ${cpu.serverCpuS.toFixed(2)} s, other processes ${cpu.otherCpuS.toFixed(2)} s`,
    );
    console.log(
      `  client event loop: idle ${elu.idle.toFixed(0)} ms (utilisation ${elu.utilization.toFixed(2)}); ` +
        `idle milliseconds with request bytes not yet sent: ${samples.unsentRequestBytes} of ${samples.idleMs}`,
    );
    console.log(
      `  messages outstanding, share of the time: ${[...timeAt].sort((a, b) => a[0] - b[0]).map(([n, ms]) => `${n}: ${((100 * ms) / span).toFixed(0)}%`).join(', ')}; ` +
        `round trip p50 ${median(responses.map((at, i) => at - writes[i])).toFixed(1)} ms; response p50 ${median(sizes)} bytes; memo ${JSON.stringify(memoStats)}`,
    );
  }
} finally {
  client.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
