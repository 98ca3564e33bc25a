// What one hostile connection can make the server hold (issue 7; docs/operations.md, "What
// clients can make the server hold"): `npx tsx bench/held-streams.ts [--streams 50]
// [--server-from dist|sources] [-- <serve flags>]`. A real server process with metrics on; one
// plain HTTP/2 connection opens `--streams` CheckCompatibilityStream calls, writes 1 MB of empty
// requests (5 zero bytes each: the densest a client can send) on each and never reads an
// answer, so that the server answers until the client's window is full, then stops reading each
// stream, whose window fills. After 20 s (a ping every 0.5 s) it prints the server's growth in
// resident memory, V8 heap used and external memory, with its own count of the unread bytes
// and of the streams it refused. Bounded: one connection, 20 s.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { rawSession } from '../test/helpers/raw-http2.ts';
import { prepareServerBuild, serverEntryArgs, startChild, type ServerBuild } from './processes.ts';

const { values, positionals } = parseArgs({
  options: {
    streams: { type: 'string', default: '50' },
    'server-from': { type: 'string', default: 'dist' },
    'metrics-port': { type: 'string', default: '19390' },
  },
  allowPositionals: true,
});
const streams = Number(values.streams);
const metricsAddress = `127.0.0.1:${values['metrics-port']}`;
const MB = 1024 * 1024;

prepareServerBuild(values['server-from'] as ServerBuild);
const dir = mkdtempSync(path.join(os.tmpdir(), 'devcompat-held-streams-'));
const server = await startChild({
  name: 'devcompat server',
  args: [...serverEntryArgs(), '--db', path.join(dir, 'bench.db'), '--address', '127.0.0.1:0', '--metrics-address', metricsAddress, ...positionals],
  readyMsg: 'devcompat serving',
  timeoutMs: 60_000,
});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's own figures, from its metrics and /proc. */
async function serverFigures(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]);
  return {
    rss: rssKb * 1024,
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    external: metric('nodejs_external_memory_bytes'),
    unread: metric('devcompat_request_stream_unread_bytes'),
    refused: metric('devcompat_request_streams_refused_total'),
  };
}

try {
  await pause(1000);
  const before = await serverFigures();
  // Room to queue `streams` MB on the client's side (Node's default would refuse past 10 MB).
  const raw = rawSession(server.address, {}, { maxSessionMemory: streams + 64 });
  const requests = Buffer.alloc(MB);
  const calls = Array.from({ length: streams }, () => raw.open('/devcompat.v1.CompatibilityService/CheckCompatibilityStream', false));
  for (const call of calls) call.stream.write(requests);
  for (let i = 0; i < 40; i++) {
    await pause(500);
    await new Promise<void>((resolve) => raw.session.ping(() => resolve()));
  }
  const after = await serverFigures();
  const grew = (key: string) => ((after[key] - before[key]) / MB).toFixed(0);
  console.log(
    `${streams} request streams on one connection, 1 MB of empty requests each, no answer read (serve ${positionals.join(' ') || 'defaults'}):\n` +
      `  refused ${after.refused}; unread request bytes ${(after.unread / MB).toFixed(1)} MB\n` +
      `  server grew: RSS +${grew('rss')} MB, heap used +${grew('heapUsed')} MB, external +${grew('external')} MB`,
  );
  raw.session.destroy();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
