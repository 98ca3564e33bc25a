// The watch phase's CPU per sync (bench/watch-load.ts, cpuPerSync): what it prints next to the
// ratio of rates is the server's CPU per sync in the runs with and without the watchers, each
// run with them against the runs without on either side of it, the watchers' process per
// revision, and how busy the server was, from the CPU times the bench measured per run.

import test from 'ava';
import { cpuPerSync, type WriteRun } from '../bench/watch-load.ts';

function run(watchers: boolean, syncs: number, serverCpuS: number, helperCpuS: number, wallS: number): WriteRun & { watchers: boolean } {
  return {
    mode: 'closed loop',
    syncs,
    unchanged: 0,
    failures: 0,
    skipped: 0,
    seconds: wallS,
    syncsPerSecond: syncs / wallS,
    latencyMs: { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 } as never,
    lastRevision: 0,
    startEpochMs: 0,
    endEpochMs: 0,
    timedOut: false,
    cpu: { serverCpuS, clientCpuS: 1, helperCpuS, otherCpuS: 0, wallS },
    watchers,
  };
}

test('CPU per sync: medians with and without, each run with the watchers against the runs without around it, the watchers per revision, the server busy', (t) => {
  // without 400 µs, with 500, without 420, with 470, without 440 (10,000 syncs a run).
  const runs = [
    run(false, 10_000, 4.0, 0.1, 5),
    run(true, 10_000, 5.0, 1.2, 6),
    run(false, 10_000, 4.2, 0.1, 5),
    run(true, 10_000, 4.7, 1.0, 5),
    run(false, 10_000, 4.4, 0.1, 5.5),
  ];
  const cpu = cpuPerSync(runs);
  t.is(Math.round(cpu.serverWithout), 420);
  t.is(Math.round(cpu.serverWith), 485);
  t.deepEqual(cpu.serverAddedPaired.map(Math.round), [90, 40], '500 - (400 + 420) / 2, 470 - (420 + 440) / 2');
  t.is(Math.round(cpu.serverAddedMedian), 65);
  t.is(Math.round(cpu.watchersProcess), 110, 'the median of 120 and 100 µs per revision');
  t.is(Math.round(cpu.allWithout), 530, 'server, load generator (100 µs) and watchers (10 µs) together, median of 510, 530, 550');
  t.is(cpu.serverBusyWithout, 0.8, 'median of 0.8, 0.84, 0.8');
  t.is(Math.round(cpu.serverBusyWith * 1000), Math.round(((5 / 6 + 0.94) / 2) * 1000));
});
