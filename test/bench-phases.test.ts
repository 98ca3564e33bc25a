// The benchmark's registration comparisons report what they claim: the etcd phase says it was
// skipped (and shows SKIPPED, never a hit) when there is no etcd, and stores each device's
// descriptor as protobuf bytes under its key; the SyncHost floor decodes every request and
// answers for every device; the placement phase claims and releases what it reports. The
// measurements themselves belong to `npm run bench`, not here.

import test from 'ava';
import os from 'node:os';
import path from 'node:path';
import { protoRoot } from '../proto/load.ts';
import { generateFleet } from '../bench/fleet.ts';
import { encodeSyncRequests } from '../bench/load.ts';
import { ETCD_KEY_PREFIX, encodeEtcdTxns, etcdRows, measureEtcd } from '../bench/etcd-phase.ts';
import { measureSyncFloor } from '../bench/sync-floor.ts';
import { syncFleet } from '../bench/load.ts';
import { findSources } from '../bench/find-sources.ts';
import { measurePlacement } from '../bench/placement-load.ts';
import { startTestServer } from './helpers/server.ts';

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
  const result = await measureSyncFloor({ encoded, inFlight: 4, timeoutS: 60 });
  const devices = encoded.reduce((sum, e) => sum + e.devices, 0);
  t.is(result.failures, 0);
  t.is(result.hostsSynced, 20);
  t.is(result.devices, devices);
  t.is(result.devicesCreated, devices);
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
