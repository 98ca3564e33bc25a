// `devcompat place` and `devcompat claims ...` as a user runs them: the built CLI as a
// process against a real server. The fleet is the README's example: a VM with two vGPUs and a
// VF, placed, then claimed, listed, renewed and released.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { devcompat } from './helpers/cli.ts';
import { gvt } from './helpers/integration.ts';
import { startTestServer } from './helpers/server.ts';

test('place a two-vGPU-plus-VF VM, claim the chosen units, list, renew and release the claim', async (t) => {
  const { client, server, dir } = await startTestServer(t);
  const vf = gvt('1.0.0', { vendor: '15b3', type: 'mlx5-vf', attributes: {}, rules: {} });
  await client.syncHost({ name: 'hosts/src', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }, { device_id: 'vf0', descriptor: vf }] });
  await client.syncHost({
    name: 'hosts/big',
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 2, available: 2 } },
      { device_id: 'vf0', descriptor: vf, capacity: { total: 4, available: 1 } },
    ],
  });
  const vm = path.join(dir, 'vm.json');
  writeFileSync(
    vm,
    JSON.stringify({
      devices: [
        { request_id: 'gpu', source: { name: 'hosts/src/devices/gpu0' }, count: 2 },
        { request_id: 'nic', source: { name: 'hosts/src/devices/vf0' } },
      ],
    }),
  );
  const placed = await devcompat(server.address, ['place', vm]);
  t.is(placed.code, 0, placed.stderr);
  t.regex(placed.stdout, /^1 {2}hosts\/big {2}READY {2}worst=COMPATIBLE non-exact=0 distance=0\/0\/0 free-after=0$/m);
  t.regex(placed.stdout, /gpu#1 -> hosts\/big\/devices\/gpu0 {2}COMPATIBLE exact/);
  t.regex(placed.stdout, /nic#0 -> hosts\/big\/devices\/vf0/);
  t.regex(placed.stdout, /^1 placement\(s\), 0 partial, 1 host\(s\) examined/m);

  const created = await devcompat(server.address, ['claims', 'create', 'big', 'mig-7', '--device', 'gpu0=2', '--device', 'vf0', '--ttl', '600000']);
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /^hosts\/big\/claims\/mig-7 {2}ACTIVE {2}gpu0:2\/2,vf0:1\/1 {2}expires \S+ {2}owner anonymous$/m);
  const again = await devcompat(server.address, ['place', vm, '--explain']);
  t.regex(again.stdout, /^0 placement\(s\), 0 partial, 1 host\(s\) examined/m, 'every unit of big is claimed: nothing to place, not even part');
  const taken = await devcompat(server.address, ['claims', 'create', 'big', 'mig-8', '--device', 'vf0']);
  t.is(taken.code, 2);
  t.regex(taken.stderr, /^devcompat: ABORTED: hosts\/big\/devices\/vf0: 1 unit\(s\) requested, 0 free$/m);
  const listed = await devcompat(server.address, ['claims', 'list', '--host', 'big']);
  t.deepEqual(listed.stdout.trim().split('\n').map((l) => l.split('  ')[0]), ['hosts/big/claims/mig-7']);
  const json = await devcompat(server.address, ['--json', 'claims', 'get', 'hosts/big/claims/mig-7']);
  t.like(JSON.parse(json.stdout), { name: 'hosts/big/claims/mig-7', state: 'CLAIM_STATE_ACTIVE', ttlMs: 600000 });
  const renewed = await devcompat(server.address, ['claims', 'renew', 'hosts/big/claims/mig-7', '--ttl', '900000']);
  t.is(renewed.code, 0, renewed.stderr);
  const released = await devcompat(server.address, ['claims', 'release', 'hosts/big/claims/mig-7']);
  t.regex(released.stdout, /^hosts\/big\/claims\/mig-7 {2}RELEASED/);
  const none = await devcompat(server.address, ['claims', 'list']);
  t.is(none.stdout.trim(), '');
});
