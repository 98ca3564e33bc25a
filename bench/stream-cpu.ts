// CPU cost of one streamed check, on each side (`npx tsx bench/stream-cpu.ts [--hosts 300]
// [--checks 100000] [--rounds 3] [--server-from dist|sources] [--profile dir]`): a real server process on a small seeded fleet, the real
// client's CheckStream in this process with the bench's stream phase load (batches of 500, 8 in
// flight). It reports CPU microseconds per check for the client (this process) and the server
// (the child, from /proc), which stay meaningful on a loaded machine where checks/s do not.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DevcompatClient } from '../client/client.ts';
import { encodeSyncRequests, pairPool, streamLoad, syncFleet, withCpu } from './load.ts';
import { prepareServerBuild, serverEntryArgs, startChild, type ServerBuild } from './processes.ts';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '300' },
    checks: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    profile: { type: 'string' },
    'server-from': { type: 'string', default: 'dist' },
  },
});
const spec = { hosts: Number(values.hosts), seed: Number(values.seed) };
const checks = Number(values.checks);
const rounds = Number(values.rounds);

prepareServerBuild(values['server-from'] as ServerBuild);
const dir = mkdtempSync(path.join(os.tmpdir(), 'devcompat-stream-cpu-'));
const server = await startChild({
  name: 'devcompat server',
  args: [
    ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []),
    ...serverEntryArgs(),
    ...['--db', path.join(dir, 'bench.db'), '--address', '127.0.0.1:0'],
  ],
  readyMsg: 'devcompat serving',
  timeoutMs: 180_000,
});
const client = new DevcompatClient({ address: server.address, actor: 'bench' });
try {
  const synced = await syncFleet(server.address, encodeSyncRequests(spec), { hosts: spec.hosts, inFlight: 16, timeoutS: 300 });
  if (synced.failures > 0) throw new Error(`sync failed: ${synced.firstError}`);
  const pairs = pairPool(spec, 20_000, spec.seed);
  const params = { batch: 500, window: 8, timeoutS: 600 };
  await streamLoad(client, pairs, 20_000, params); // warm-up
  for (let round = 1; round <= rounds; round++) {
    const { value, cpu } = await withCpu(server.pid, () => streamLoad(client, pairs, checks, params));
    if (value.checks !== checks) throw new Error(`only ${value.checks} of ${checks} checks answered`);
    const us = (seconds: number) => ((seconds * 1e6) / value.checks).toFixed(2);
    console.log(
      `round ${round}: ${value.checks} checks (${value.itemErrors} item errors) in ${value.seconds.toFixed(2)} s; ` +
        `CPU per check: client ${us(cpu.clientCpuS)} µs, server ${us(cpu.serverCpuS)} µs; verdicts ${JSON.stringify(value.verdicts)}`,
    );
  }
} finally {
  client.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
