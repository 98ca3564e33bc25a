// The benchmark's postgres phase (bench/postgres-phase.ts) on a real PostgreSQL, at a tiny
// size: it registers the whole fleet into SQLite and into one and two replicas over
// PostgreSQL, its checks get answers, every acknowledged write's event reaches the watcher of
// every replica, and the table has a column per store. It makes its own cluster (with fsync
// on, as a benchmark must), not the suite's. How fast is for `npm run bench`, not here.

import test from 'ava';
import { measurePostgres, postgresRows, postgresTable } from '../../bench/postgres-phase.ts';
import { tempDir } from '../helpers/server.ts';

test('the postgres phase registers the fleet into SQLite and each replica count, and every replica sees every acknowledged write', async (t) => {
  const workDir = tempDir(t);
  const logged: string[] = [];
  const result = await measurePostgres({
    spec: { hosts: 12, seed: 3 },
    workDir,
    replicas: [1, 2],
    durability: 'full',
    leaseTtl: '1d',
    serverNodeOptions: [],
    inFlight: 4,
    syncTimeoutS: 120,
    check: { inFlight: 4, maxCalls: 200, warmupSeconds: 0, seconds: 0.5 },
    watch: { rate: 20, seconds: 1, maxOutstanding: 50 },
    log: (line) => logged.push(line),
  });
  if (result.skipped !== undefined) throw new Error(`the postgres phase was skipped on a machine with PostgreSQL: ${result.skipped}`);
  t.is(result.hosts, 12);
  t.deepEqual(
    result.runs.map((run) => [run.label, run.replicas]),
    [
      ['SQLite', 1],
      ['PostgreSQL x1', 1],
      ['PostgreSQL x2', 2],
    ],
  );
  for (const run of result.runs) {
    const r = run.registration;
    t.is(r.hostsSynced, 12, run.label);
    t.is(r.devicesCreated, result.devices, run.label);
    t.is(r.failures, 0, run.label);
    // One revision per host registered, whichever replica took it.
    t.is(r.lastRevision, 12, run.label);
    t.is(run.rssBytes.length, run.replicas);
    t.true(run.check.calls > 0, run.label);
    t.is(run.check.errors, 0, run.label);
    const w = run.watch;
    t.true(w.writes.syncs > 0, run.label);
    t.is(w.writes.failures, 0, run.label);
    t.is(w.revisions, w.writes.syncs, run.label);
    t.is(w.missing, 0, run.label);
    t.deepEqual(w.watcherErrors, [], run.label);
    t.is(w.everyReplicaMs.count, w.revisions, run.label);
    t.is(w.otherReplicasMs === undefined, run.replicas === 1, run.label);
  }
  const table = postgresTable(result);
  t.regex(table.split('\n')[0], /SQLite\s+PostgreSQL x1\s+PostgreSQL x2/);
  const rows = postgresRows(result, { inFlight: 4, checkSeconds: 0.5, watchRate: 20 }, () => '');
  t.is(rows.filter((row) => row[4] === 'OK').length, 9);
  t.true(logged.some((line) => /^PostgreSQL \d+\.\d+ at 127\.0\.0\.1:\d+/.test(line)));
});
