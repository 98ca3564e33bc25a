// The restart phase: how long the fleet's server takes to come back on its own database. The
// seeded server is stopped (SIGTERM, graceful), then a new one is started with the same
// arguments; measured from the spawn to its "devcompat serving" line (the registry is loaded
// into memory before the server binds, so that line means it serves the whole fleet) and to the
// first answered GetHost through a fresh client. Then, with no warm-up, the first FindTargets
// queries of each source after start-up. The restarted server replaces the old one for the rest
// of the run. For scale, the same run also times the start of the bare grpc-js server of
// bench/sync-floor-server.ts (node, tsx, grpc-js and the proto, no registry): what a restart
// costs before any of devcompat's own loading, on this machine under its current load.

import { DevcompatClient } from '../client/client.ts';
import type { SourceShape } from './fleet-shape.ts';
import { findLoad, type CpuUse, type FindRun } from './load.ts';
import { readCpuSeconds, readMachineBusySeconds, readMemory, readThreadCpuSeconds, startChild, type ChildServer } from './processes.ts';
import { fmt, nowMs } from './stats.ts';

export interface RestartResult {
  /** Time for the old server to exit after SIGTERM. */
  readonly stopMs: number;
  readonly stoppedHow: string;
  /** Spawn to the "devcompat serving" log line. */
  readonly readyMs: number;
  /** Spawn to the first GetHost answered. */
  readonly firstAnswerMs: number;
  /** The restarted server's resident memory once serving, and its peak so far. */
  readonly rssBytes?: number;
  readonly peakBytes?: number;
  /** CPU during the start (the new server's since its spawn; the rest of the machine). */
  readonly cpu?: CpuUse;
  /** The new server's main thread's CPU seconds by then: the serial part, a floor for its wall time on an idle machine. */
  readonly mainThreadCpuS?: number;
  /** Spawn to serving of a bare grpc-js server loading the same proto (no registry). */
  readonly bareStartMs: number;
  /** The first FindTargets queries of each source after start-up, no warm-up. */
  readonly findAfterStart: FindRun[];
}

export interface RestartParams {
  readonly server: ChildServer;
  /** The arguments the server was started with (after `node`). */
  readonly args: readonly string[];
  /** A host of the fleet, `hosts/<id>`, read once the new server serves. */
  readonly probeHost: string;
  readonly sources: readonly [SourceShape, number][];
  readonly findQueries: number;
  readonly findLimit: number;
  readonly findTimeoutS: number;
}

export async function measureRestart(params: RestartParams): Promise<{ result: RestartResult; server: ChildServer }> {
  const b0 = nowMs();
  const bare = await startChild({ name: 'bare grpc-js server', args: ['--import', 'tsx', 'bench/sync-floor-server.ts'], readyMsg: 'sync floor serving' });
  const bareStartMs = nowMs() - b0;
  await bare.stop();

  const s0 = nowMs();
  const stoppedHow = await params.server.stop();
  const stopMs = nowMs() - s0;

  const machine0 = readMachineBusySeconds() ?? Number.NaN;
  const client0 = process.cpuUsage();
  const t0 = nowMs();
  const server = await startChild({ name: 'devcompat server (restarted)', args: params.args, readyMsg: 'devcompat serving', timeoutMs: 600_000 });
  const readyMs = nowMs() - t0;
  const client = new DevcompatClient({ address: server.address, actor: 'bench' });
  try {
    await client.getHost(params.probeHost);
    const firstAnswerMs = nowMs() - t0;
    const wallS = firstAnswerMs / 1000;
    const clientUse = process.cpuUsage(client0);
    const serverCpuS = readCpuSeconds(server.pid) ?? Number.NaN;
    const mainThreadCpuS = readThreadCpuSeconds(server.pid, server.pid);
    const clientCpuS = (clientUse.user + clientUse.system) / 1e6;
    const otherCpuS = Math.max(0, (readMachineBusySeconds() ?? Number.NaN) - machine0 - serverCpuS - clientCpuS);
    const memory = readMemory(server.pid);
    const findAfterStart: FindRun[] = [];
    for (const [shape, targetP99] of params.sources) {
      findAfterStart.push(
        await findLoad(client, shape, targetP99, { queries: params.findQueries, warmup: 0, limit: params.findLimit, timeoutS: params.findTimeoutS }),
      );
    }
    return {
      result: {
        stopMs,
        stoppedHow,
        readyMs,
        firstAnswerMs,
        rssBytes: memory?.rssBytes,
        peakBytes: memory?.hwmBytes,
        cpu: { serverCpuS, clientCpuS, otherCpuS, wallS },
        mainThreadCpuS,
        bareStartMs,
        findAfterStart,
      },
      server,
    };
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    client.close();
  }
}

/** The results table's lines: the restart (target under 1 s) and the first queries after it. */
export function restartRows(r: RestartResult, hosts: number, findLimit: number, noise: (cpu: CpuUse | undefined) => string): string[][] {
  const rows = [
    [
      `Restart on the fleet's database (${fmt(hosts)} hosts), spawn to serving`,
      `${fmt(r.readyMs / 1000, 2)} s to "serving", ${fmt(r.firstAnswerMs / 1000, 2)} s to the first GetHost answered` +
        `; server CPU ${fmt(r.cpu?.serverCpuS ?? Number.NaN, 2)} s, its main thread ${fmt(r.mainThreadCpuS ?? Number.NaN, 2)} s` +
        `; RSS then ${fmt((r.rssBytes ?? Number.NaN) / 1e6)} MB (peak ${fmt((r.peakBytes ?? Number.NaN) / 1e6)} MB); the old server stopped in ${fmt(r.stopMs / 1000, 2)} s; a bare grpc-js server (through tsx) starts in ${fmt(r.bareStartMs / 1000, 2)} s`,
      '< 1 s',
      '',
      hit(r.firstAnswerMs < 1000),
      noise(r.cpu),
    ],
  ];
  for (const f of r.findAfterStart) {
    rows.push([
      `  FindTargets ${f.source} right after the restart, first ${f.queries} queries, no warm-up, limit ${findLimit}`,
      `first p50 ${fmt(f.firstMs.p50, 2)} / p99 ${fmt(f.firstMs.p99, 2)} ms; last p50 ${fmt(f.lastMs.p50, 2)} / p99 ${fmt(f.lastMs.p99, 2)} ms (max ${fmt(f.lastMs.max, 1)})`,
      `last p99 < ${f.targetP99Ms} ms`,
      '',
      hit(f.lastMs.p99 < f.targetP99Ms && !f.timedOut),
      '',
    ]);
  }
  return rows;
}

const hit = (ok: boolean) => (ok ? 'HIT' : 'MISS');
