// The sync floor phase: the fleet's pre-encoded SyncHost requests sent to the bare servers of
// bench/sync-floor-server.ts with the sync phase's own client loop (syncFleet) and concurrency,
// one after the other: the decoding floor (proto-loader decodes each request, as the issue asks)
// and the transport floor (nothing decoded: grpc-js and HTTP/2 alone). devcompat's sync time is
// reported over the first; the second bounds what any Node gRPC server could reach on this
// machine, in the same run, next to half of etcd's time (the registration target).

import { startChild } from './processes.ts';
import { syncFleet, withCpu, type CpuUse, type EncodedSync, type SyncResult } from './load.ts';
import { fmt } from './stats.ts';

export interface SyncFloorParams {
  readonly encoded: readonly EncodedSync[];
  readonly inFlight: number;
  readonly timeoutS: number;
  /** proto-loader: decode each request (the floor); none: the transport floor. */
  readonly decode: 'proto-loader' | 'none';
}

/** Starts the floor server, syncs the fleet to it, stops it. */
export async function measureSyncFloor(params: SyncFloorParams): Promise<SyncResult> {
  const floor = await startChild({
    name: 'sync floor server',
    args: ['--import', 'tsx', 'bench/sync-floor-server.ts', '--address', '127.0.0.1:0', '--decode', params.decode],
    readyMsg: 'sync floor serving',
  });
  try {
    const run = await withCpu(floor.pid, () =>
      syncFleet(floor.address, params.encoded, { hosts: params.encoded.length, inFlight: params.inFlight, timeoutS: params.timeoutS }),
    );
    const result = { ...run.value, cpu: run.cpu };
    if (result.failures > 0 || result.timedOut) {
      throw new Error(`sync floor (decode ${params.decode}) incomplete: ${result.failures} failures${result.timedOut ? ', timed out' : ''}; first: ${result.firstError}`);
    }
    return result;
  } finally {
    await floor.stop();
  }
}

/** The results table's lines: the floors' times, and devcompat's over the decoding floor (reported, no target). */
export function syncFloorRows(
  floors: { decoding?: SyncResult; transport?: SyncResult },
  devcompat: SyncResult | undefined,
  etcdSeconds: number | undefined,
  inFlight: number,
  noise: (cpu: CpuUse | undefined) => string,
): string[][] {
  const rows: string[][] = [];
  const timing = (r: SyncResult) => `${fmt(r.seconds, 2)} s (${fmt(r.syncsPerSecond)} hosts/s; p50 ${fmt(r.latencyMs.p50, 1)} ms, p99 ${fmt(r.latencyMs.p99, 1)} ms)` +
    (r.cpu ? `; server CPU ${fmt(r.cpu.serverCpuS, 1)} s, load generator ${fmt(r.cpu.clientCpuS, 1)} s` : '');
  const { decoding, transport } = floors;
  if (decoding) {
    rows.push([
      `SyncHost floor: bare grpc-js that only decodes each request (bench/sync-floor-server.ts), same requests, ${inFlight} in flight`,
      timing(decoding),
      '',
      'measured in this run, after the sync',
      '',
      noise(decoding.cpu),
    ]);
    if (devcompat) {
      rows.push(['  sync time, devcompat / floor (same run)', `${fmt(devcompat.seconds, 2)} s / ${fmt(decoding.seconds, 2)} s = ${fmt(devcompat.seconds / decoding.seconds, 2)}` +
          (devcompat.cpu && decoding.cpu ? ` (the servers' CPU time: devcompat ${fmt(devcompat.cpu.serverCpuS, 1)} s / floor ${fmt(decoding.cpu.serverCpuS, 1)} s = ${fmt(devcompat.cpu.serverCpuS / decoding.cpu.serverCpuS, 2)})` : ''), 'reported', '', '', '']);
    }
  }
  if (transport) {
    rows.push([
      `SyncHost transport floor: bare grpc-js, nothing decoded, one pre-encoded answer (--decode none), same requests, ${inFlight} in flight`,
      timing(transport),
      '',
      'measured in this run, after the sync',
      '',
      noise(transport.cpu),
    ]);
    if (etcdSeconds !== undefined) {
      rows.push([
        '  the registration target (half of etcd\'s time) / the transport floor (same run)',
        `${fmt(etcdSeconds / 2, 2)} s / ${fmt(transport.seconds, 2)} s = ${fmt(etcdSeconds / 2 / transport.seconds, 2)} (under 1: the target is faster than grpc-js answering without decoding)`,
        'reported',
        '',
        '',
        '',
      ]);
    }
  }
  return rows;
}
