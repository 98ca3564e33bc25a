// The benchmark's registration comparisons report what they claim: the etcd phase says it was
// skipped (and shows SKIPPED, never a hit) when there is no etcd, and stores each device's
// descriptor as protobuf bytes under its key; the SyncHost floor decodes every request and
// answers for every device; the placement phase claims and releases what it reports; the
// TLS-cost phase runs the same load over plaintext and over mutual TLS against the same fleet
// and reports both; the abuse phase reports its three targets with HIT or MISS; the postgres
// phase says it was skipped without PostgreSQL (its real run is test/postgres/bench-phase.test.ts).
// The measurements themselves belong to `npm run bench`, not here.

import test from 'ava';
import os from 'node:os';
import path from 'node:path';
import { protoRoot } from '../proto/load.ts';
import { generateFleet } from '../bench/fleet.ts';
import { encodeSyncRequests } from '../bench/load.ts';
import { ETCD_KEY_PREFIX, encodeEtcdTxns, etcdRows, measureEtcd } from '../bench/etcd-phase.ts';
import { measureSyncFloor } from '../bench/sync-floor.ts';
import { describeFleet } from '../bench/fleet-shape.ts';
import { findSources } from '../bench/find-sources.ts';
import { pairPool, syncFleet } from '../bench/load.ts';
import { measurePlacement } from '../bench/placement-load.ts';
import { startChild } from '../bench/processes.ts';
import { measureTlsCost, tlsCostRows } from '../bench/tls-cost.ts';
import { abuseRows, measureAbuse } from '../bench/abuse.ts';
import { measurePostgres, postgresRows } from '../bench/postgres-phase.ts';
import { DevcompatClient } from '../client/client.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

test('without an etcd binary the etcd phase is skipped, says how to install etcd, and the table shows SKIPPED', async (t) => {
  const logged: string[] = [];
  const result = await measureEtcd({
    binary: path.join(os.tmpdir(), 'no-such-etcd-binary'),
    spec: { hosts: 2, seed: 1 },
    dataDir: path.join(os.tmpdir(), 'unused-etcd-data'),
    inFlight: 2,
    timeoutS: 5,
    log: (line) => logged.push(line),
  });
  t.truthy(result.skipped);
  t.regex(result.skipped!, /apt-get install etcd-server/);
  t.true(logged.some((line) => line.includes('SKIPPED')));
  const rows = etcdRows(result, undefined, 64, () => '');
  t.is(rows.length, 1);
  t.is(rows[0][4], 'SKIPPED');
});

test('without PostgreSQL binaries the postgres phase is skipped, says how to install PostgreSQL, and the table shows SKIPPED', async (t) => {
  const logged: string[] = [];
  const result = await measurePostgres({
    spec: { hosts: 2, seed: 1 },
    binDir: path.join(os.tmpdir(), 'no-such-postgresql-bin'),
    workDir: os.tmpdir(),
    replicas: [1, 3],
    durability: 'full',
    leaseTtl: '1d',
    serverNodeOptions: [],
    inFlight: 2,
    syncTimeoutS: 5,
    check: { inFlight: 2, maxCalls: 10, warmupSeconds: 0, seconds: 0.1 },
    watch: { rate: 10, seconds: 1, maxOutstanding: 10 },
    log: (line) => logged.push(line),
  });
  t.truthy(result.skipped);
  t.regex(result.skipped!, /no initdb or pg_ctl in .*no-such-postgresql-bin/);
  t.regex(result.skipped!, /apt-get install postgresql/);
  t.true(logged.some((line) => line.includes('postgres phase SKIPPED')));
  const rows = postgresRows(result, { inFlight: 2, checkSeconds: 0.1, watchRate: 10 }, () => '');
  t.is(rows.length, 1);
  t.is(rows[0][4], 'SKIPPED');
});

test("the etcd phase puts each host's devices in one transaction, the descriptor's protobuf bytes under the device's key", (t) => {
  const spec = { hosts: 5, seed: 2 };
  const hosts = [...generateFleet(spec)];
  const txns = encodeEtcdTxns(spec);
  const Descriptor = protoRoot().lookupType('devcompat.v1.Descriptor');
  t.is(txns.length, hosts.length);
  for (const [i, host] of hosts.entries()) {
    t.is(txns[i].puts.length, host.devices.length);
    for (const [j, device] of host.devices.entries()) {
      const put = txns[i].puts[j];
      t.is(put.key.toString(), `${ETCD_KEY_PREFIX}${host.host_id}/devices/${device.device_id}`);
      const decoded = Descriptor.toObject(Descriptor.decode(put.value), { longs: Number, enums: String });
      t.like(decoded, {
        vendor: device.descriptor.vendor,
        type: device.descriptor.type,
        software_version: device.descriptor.software_version,
        attributes: device.descriptor.attributes,
      });
    }
  }
});

test('the SyncHost floor decodes every request and answers for every device', async (t) => {
  const encoded = encodeSyncRequests({ hosts: 20, seed: 1 });
  const result = await measureSyncFloor({ encoded, inFlight: 4, timeoutS: 60, decode: 'proto-loader' });
  const devices = encoded.reduce((sum, e) => sum + e.devices, 0);
  t.is(result.failures, 0);
  t.is(result.hostsSynced, 20);
  t.is(result.devices, devices);
  t.is(result.devicesCreated, devices);
});

test('the SyncHost transport floor answers every request without decoding it', async (t) => {
  const encoded = encodeSyncRequests({ hosts: 20, seed: 1 });
  const result = await measureSyncFloor({ encoded, inFlight: 4, timeoutS: 60, decode: 'none' });
  t.is(result.failures, 0);
  t.is(result.hostsSynced, 20);
  // One answer encoded once, for a host of 16 devices, whatever the request held.
  t.is(result.devicesCreated, 20 * 16);
});

test('the placement phase places the VM, claims and releases what it says, and counts one winner per race round', async (t) => {
  const { server, client } = await startTestServer(t);
  const spec = { hosts: 150, seed: 1 };
  const encoded = encodeSyncRequests(spec);
  const synced = await syncFleet(server.address, encoded, { hosts: encoded.length, inFlight: 4, timeoutS: 60 });
  t.is(synced.failures, 0);
  const sources = findSources(spec);
  const result = await measurePlacement({
    address: server.address,
    gpuSource: sources.nvidia.name,
    nicSource: sources.mlx5.name,
    queries: 3,
    warmup: 1,
    claims: 12,
    inFlight: 4,
    racers: 3,
    rounds: 4,
    timeoutS: 120,
    log: () => undefined,
  });
  t.is(result.find.queries, 3);
  t.true(result.find.placements > 0, 'some hosts take two vGPUs and a VF');
  t.like(result.claims, { created: 12, failures: 0, timedOut: false });
  t.like(result.race, { racers: 3, rounds: 4, badRounds: 0, otherErrors: 0, timedOut: false });
  t.is(result.race.winnerMs.count, 4);
  t.is(result.race.loserMs.count, 8, 'every loser is counted, with its latency');
  const left = [];
  for await (const claim of client.listClaims()) left.push(claim.name);
  t.deepEqual(left, [], 'the phase releases every claim it made');
});

test('the TLS-cost phase measures the same fleet over plaintext and mutual TLS; the abuse phase reports its three targets', async (t) => {
  const dir = tempDir(t);
  const spec = { hosts: 6, seed: 3 };
  const dbPath = path.join(dir, 'bench.db');
  const server = await startChild({
    name: 'devcompat server',
    args: ['--import', 'tsx', 'server/main.ts', '--db', dbPath, '--address', '127.0.0.1:0', '--log-level', 'info'],
    readyMsg: 'devcompat serving',
    timeoutMs: 60_000,
  });
  t.teardown(() => server.stop());
  const seeded = await syncFleet(server.address, encodeSyncRequests(spec), { hosts: spec.hosts, inFlight: 2, timeoutS: 60 });
  t.is(seeded.failures, 0);
  const client = new DevcompatClient({ address: server.address });
  t.teardown(() => client.close());
  const shape = describeFleet(generateFleet(spec));
  const sources = [shape.sources.gvtg, shape.sources.nvidia, shape.sources.mlx5];
  const check = { inFlight: 2, maxCalls: 20, warmupSeconds: 0, seconds: 0.2 };
  const find = { queries: 2, warmup: 0, limit: 5, timeoutS: 30 };
  const logged: string[] = [];
  const tls = await measureTlsCost({
    plain: { client, pid: server.pid },
    dbPath,
    workDir: dir,
    serverNodeOptions: [],
    durability: 'relaxed',
    pairs: pairPool(spec, 50, 1),
    check,
    sources,
    find,
    log: (line) => logged.push(line),
  });
  t.true(tls.check.plain.calls > 0 && tls.check.tls.calls > 0, 'both servers answered checks');
  t.is(tls.check.plain.errors + tls.check.tls.errors, 0);
  t.is(tls.find.tls.runs.length, 3);
  t.deepEqual(
    tls.find.tls.runs.map((run) => run.summary?.candidates),
    tls.find.plain.runs.map((run) => run.summary?.candidates),
    'the TLS server serves the same fleet',
  );
  t.true(logged.some((line) => line.startsWith('CheckCompatibility mutual TLS:')));
  const rows = tlsCostRows(tls, check, find, () => '');
  t.is(rows.length, 2);
  t.regex(rows[0][1], /^[\d,]+ \/ [\d,]+ calls\/s = [\d.]+ \(TLS p50/);
  t.regex(rows[1][1], /^[\d,]+ \/ [\d,]+ queries\/s = [\d.]+ /);

  const abuse = await measureAbuse({
    address: server.address,
    serverPid: server.pid,
    source: shape.sources.mlx5.source.name,
    probeHost: `hosts/${[...generateFleet(spec)][0].host_id}`,
    streams: 20,
    perConnection: 10,
    holdS: 0.5,
    fallBackS: 5,
    log: () => {},
  });
  t.is(abuse.streams, 20);
  t.is(abuse.held + abuse.shed + Object.values(abuse.otherEnds).reduce((a, b) => a + b, 0), 20, 'every stream is accounted for');
  t.true(abuse.probe.getHost.latencyMs.count > 0, 'the probe was answered');
  const abuseLines = abuseRows(abuse, spec.hosts, (ok) => (ok ? 'HIT' : 'MISS'));
  t.is(abuseLines.length, 3);
  for (const row of abuseLines) t.regex(row[4], /^(HIT|MISS)$/);
  t.regex(abuseLines[0][0], /targets set for 2,000 streams on 10,000 hosts/);
  t.regex(abuseLines[2][1], /GetHost p99 .*; FindTargets p99/);
});
