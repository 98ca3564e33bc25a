// The sync floor phase: the fleet's pre-encoded SyncHost requests sent to the bare decoding
// server of bench/sync-floor-server.ts with the sync phase's own client loop (syncFleet) and
// concurrency, so that devcompat's sync time can be reported over the floor's, in the same run.

import { startChild } from './processes.ts';
import { syncFleet, withCpu, type CpuUse, type EncodedSync, type SyncResult } from './load.ts';
import { fmt } from './stats.ts';

export interface SyncFloorParams {
  readonly encoded: readonly EncodedSync[];
  readonly inFlight: number;
  readonly timeoutS: number;
}

/** Starts the floor server, syncs the fleet to it, stops it. */
export async function measureSyncFloor(params: SyncFloorParams): Promise<SyncResult> {
  const floor = await startChild({
    name: 'sync floor server',
    args: ['--import', 'tsx', 'bench/sync-floor-server.ts', '--address', '127.0.0.1:0'],
    readyMsg: 'sync floor serving',
  });
  try {
    const run = await withCpu(floor.pid, () =>
      syncFleet(floor.address, params.encoded, { hosts: params.encoded.length, inFlight: params.inFlight, timeoutS: params.timeoutS }),
    );
    const result = { ...run.value, cpu: run.cpu };
    if (result.failures > 0 || result.timedOut) {
      throw new Error(`sync floor incomplete: ${result.failures} failures${result.timedOut ? ', timed out' : ''}; first: ${result.firstError}`);
    }
    return result;
  } finally {
    await floor.stop();
  }
}

/** The results table's lines: the floor's time, and devcompat's over it (reported, no target). */
export function syncFloorRows(floor: SyncResult, devcompat: SyncResult | undefined, inFlight: number, noise: (cpu: CpuUse | undefined) => string): string[][] {
  const rows = [
    [
      `SyncHost floor: bare grpc-js that only decodes each request (bench/sync-floor-server.ts), same requests, ${inFlight} in flight`,
      `${fmt(floor.seconds, 2)} s (${fmt(floor.syncsPerSecond)} hosts/s; p50 ${fmt(floor.latencyMs.p50, 1)} ms, p99 ${fmt(floor.latencyMs.p99, 1)} ms)`,
      '',
      'measured in this run, after the sync',
      '',
      noise(floor.cpu),
    ],
  ];
  if (devcompat) {
    rows.push(['  sync time, devcompat / floor (same run)', `${fmt(devcompat.seconds, 2)} s / ${fmt(floor.seconds, 2)} s = ${fmt(devcompat.seconds / floor.seconds, 2)}` +
        (devcompat.cpu && floor.cpu ? ` (the servers' CPU time: devcompat ${fmt(devcompat.cpu.serverCpuS, 1)} s / floor ${fmt(floor.cpu.serverCpuS, 1)} s = ${fmt(devcompat.cpu.serverCpuS / floor.cpu.serverCpuS, 2)})` : ''), 'reported', '', '', '']);
  }
  return rows;
}
