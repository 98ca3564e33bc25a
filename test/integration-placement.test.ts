// PlacementService through the real client against a real server on a real SQLite file:
// FindPlacements for a two-vGPU-plus-VF VM, each claim RPC and the claim state machine
// (create, retry, conflict, capacity exhausted, renew, release, restart), claimed units in
// ListDevices / GetDevice / FindTargets, claims in history, and withClaim releasing on error.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { DescriptorInput, DevcompatClient } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { collect, gvt, historyOf, rejectsWith } from './helpers/integration.ts';

const VF: DescriptorInput = gvt('1.0.0', { vendor: '15b3', type: 'mlx5-vf', attributes: {}, rules: {} });

/** A source host running the VM, and two targets: `big` with one 2-unit GPU, `small` with two 1-unit GPUs. */
async function fleet(client: DevcompatClient) {
  await client.syncHost({
    name: 'hosts/src',
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0') },
      { device_id: 'vf0', descriptor: VF },
    ],
  });
  await client.syncHost({
    name: 'hosts/big',
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 2, available: 2 } },
      { device_id: 'vf0', descriptor: VF, capacity: { total: 1, available: 1 } },
    ],
  });
  await client.syncHost({
    name: 'hosts/small',
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 1, available: 1 } },
      { device_id: 'gpu1', descriptor: gvt('1.3.0'), capacity: { total: 1, available: 1 } },
      { device_id: 'vf0', descriptor: VF, capacity: { total: 1, available: 1 } },
    ],
  });
}

const VM = [
  { requestId: 'gpu', source: 'hosts/src/devices/gpu0', count: 2 },
  { requestId: 'nic', source: 'hosts/src/devices/vf0' },
];

test('FindPlacements streams hosts that take the whole VM with one assignment each; a claim takes a host out', async (t) => {
  const { client } = await startTestServer(t);
  await fleet(client);
  const items = await collect(client.findPlacements(VM, { explain: true }));
  const placements = items.flatMap((i) => ('placement' in i ? [i.placement] : []));
  t.deepEqual(
    placements.map((p) => p.host),
    ['hosts/big', 'hosts/small'],
    'big is exact on both GPU units; small needs a 1.3.0 GPU (a minor distance)',
  );
  t.deepEqual(
    placements[0].pairs.map((p) => [p.request_id, p.unit, p.target, p.result?.verdict]),
    [
      ['gpu', 0, 'hosts/big/devices/gpu0', 'VERDICT_COMPATIBLE'],
      ['gpu', 1, 'hosts/big/devices/gpu0', 'VERDICT_COMPATIBLE'],
      ['nic', 0, 'hosts/big/devices/vf0', 'VERDICT_COMPATIBLE'],
    ],
  );
  t.deepEqual(new Set(placements[1].pairs.map((p) => p.target)).size, 3, 'small uses each of its units once');
  t.is(placements[1].key?.minor_distance, 1);
  const summary = items.at(-1)!;
  t.true('summary' in summary);
  if ('summary' in summary) t.like(summary.summary, { placements: 2, partial: 0, hosts_examined: 2 });

  // Claim one GPU unit of big: big can no longer take two GPUs and the VF at once.
  await client.claims.create('big', 'other-vm', [{ device: 'gpu0' }]);
  const after = await collect(client.findPlacements(VM, { explain: true }));
  t.deepEqual(after.flatMap((i) => ('placement' in i ? [i.placement.host] : [])), ['hosts/small']);
  const partial = after.flatMap((i) => ('partial' in i ? [i.partial] : []));
  t.is(partial[0]?.host, 'hosts/big');
  t.like(partial[0]?.missing[0], { request_id: 'gpu', needed: 2, placed: 1, reason: 'PLACEMENT_MISSING_REASON_NO_FREE_UNIT' });
});

test('claims: create, retry, conflict, exhausted, get, list, renew, release, and claimed units everywhere', async (t) => {
  const { client, restart } = await startTestServer(t, { client: { actor: 'scheduler-1' } });
  await fleet(client);
  const created = await client.claims.create('hosts/big', 'mig-42', [{ device: 'gpu0', count: 2 }, { device: 'hosts/big/devices/vf0' }], {
    ttlMs: 60_000,
    reason: 'migrate vm 42',
  });
  t.true(created.created);
  t.like(created.claim, { name: 'hosts/big/claims/mig-42', state: 'CLAIM_STATE_ACTIVE', ttl_ms: 60_000 });
  t.deepEqual(
    created.claim.devices.map((d) => [d.device, d.count, d.remaining]),
    [
      ['hosts/big/devices/gpu0', 2, 2],
      ['hosts/big/devices/vf0', 1, 1],
    ],
  );

  const retry = await client.claims.create('big', 'mig-42', [{ device: 'vf0' }, { device: 'gpu0', count: 2 }], { ttlMs: 60_000 });
  t.false(retry.created, 'the same body in another order is a retry');
  t.is(retry.revision, created.revision);
  await rejectsWith(t, client.claims.create('big', 'mig-42', [{ device: 'gpu0' }]), grpc.status.ALREADY_EXISTS);
  const exhausted = await rejectsWith(t, client.claims.create('big', 'mig-43', [{ device: 'vf0' }]), grpc.status.ABORTED);
  t.is(exhausted.reason, 'CAPACITY_EXHAUSTED');
  t.is(exhausted.metadata.device, 'hosts/big/devices/vf0');
  await rejectsWith(t, client.claims.create('big', 'bad', [{ device: 'nope' }]), grpc.status.NOT_FOUND);
  await rejectsWith(t, client.claims.create('big', '', [{ device: 'gpu0' }]), grpc.status.INVALID_ARGUMENT);
  await rejectsWith(t, client.claims.create('big', 'x', [{ device: 'gpu0' }], { ttlMs: 10 }), grpc.status.INVALID_ARGUMENT);

  // Claimed units show beside what the host reported, which is unchanged.
  const gpu = await client.getDevice('hosts/big/devices/gpu0');
  t.like(gpu, { claimed: 2, capacity: { total: 2, available: 2 } });
  const listed = [];
  for await (const device of client.listDevices({ host: 'hosts/big' })) listed.push([device.name, device.claimed]);
  t.deepEqual(listed, [
    ['hosts/big/devices/gpu0', 2],
    ['hosts/big/devices/vf0', 1],
  ]);
  const available = await collect(client.findTargets('hosts/src/devices/gpu0', { requireAvailable: true }));
  t.deepEqual(
    available.flatMap((i) => ('target' in i ? [i.target.name] : [])).sort(),
    ['hosts/small/devices/gpu0', 'hosts/small/devices/gpu1'],
    'a fully claimed device is not available',
  );

  t.like(await client.claims.get('hosts/big/claims/mig-42'), { state: 'CLAIM_STATE_ACTIVE' });
  await client.claims.create('small', 'mig-42', [{ device: 'gpu1' }]);
  const byId = await collect(client.listClaims({ claimId: 'mig-42' }));
  t.deepEqual(byId.map((c) => c.name), ['hosts/big/claims/mig-42', 'hosts/small/claims/mig-42']);
  const byHost = await collect(client.listClaims({ parent: 'hosts/small' }));
  t.deepEqual(byHost.map((c) => c.name), ['hosts/small/claims/mig-42']);

  const renewed = await client.claims.renew('hosts/big/claims/mig-42', { ttlMs: 120_000 });
  t.is(renewed.ttl_ms, 120_000);

  // A claim survives a restart.
  const again = await restart();
  t.like(await again.client.claims.get('hosts/big/claims/mig-42'), { ttl_ms: 120_000, state: 'CLAIM_STATE_ACTIVE' });
  t.is((await again.client.getDevice('hosts/big/devices/vf0')).claimed, 1);

  const released = await again.client.claims.release('hosts/big/claims/mig-42', { reason: 'migration aborted' });
  t.like(released, { state: 'CLAIM_STATE_RELEASED' });
  t.truthy(released.end_time);
  await rejectsWith(t, again.client.claims.get('hosts/big/claims/mig-42'), grpc.status.NOT_FOUND);
  await rejectsWith(t, again.client.claims.release('hosts/big/claims/mig-42'), grpc.status.NOT_FOUND);
  t.is((await again.client.getDevice('hosts/big/devices/gpu0')).claimed, 0);

  const history = await historyOf(again.client, { resource: 'hosts/big' });
  const claimEntries = [...history].reverse().filter((e) => e.resource === 'hosts/big/claims/mig-42');
  t.deepEqual(
    claimEntries.map((e) => [e.kind, e.actor, e.reason, e.after?.claim?.state ?? null]),
    [
      ['CHANGE_KIND_CREATED', 'scheduler-1', 'migrate vm 42', 'CLAIM_STATE_ACTIVE'],
      ['CHANGE_KIND_UPDATED', 'scheduler-1', '', 'CLAIM_STATE_ACTIVE'],
      ['CHANGE_KIND_DELETED', 'scheduler-1', 'migration aborted', 'CLAIM_STATE_RELEASED'],
    ],
  );
  t.true((await again.client.verifyHistory()).intact);
});

test('a sync reporting the migrated instance uses the claim up (CONSUMED); withClaim releases when the migration fails', async (t) => {
  const { client } = await startTestServer(t);
  await fleet(client);
  await client.claims.create('small', 'mig-1', [{ device: 'gpu0' }, { device: 'vf0' }]);
  await client.syncHost({
    name: 'hosts/small',
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 1, available: 0 } },
      { device_id: 'gpu1', descriptor: gvt('1.3.0'), capacity: { total: 1, available: 1 } },
      { device_id: 'vf0', descriptor: VF, capacity: { total: 1, available: 0 } },
    ],
  });
  await rejectsWith(t, client.claims.get('hosts/small/claims/mig-1'), grpc.status.NOT_FOUND);
  const consumed = (await historyOf(client, { resource: 'hosts/small' })).find((e) => e.resource === 'hosts/small/claims/mig-1' && e.kind === 'CHANGE_KIND_DELETED');
  t.is(consumed?.after?.claim?.state, 'CLAIM_STATE_CONSUMED');
  t.is((await client.getDevice('hosts/small/devices/gpu0')).claimed, 0, 'the unit is not counted twice');

  const failure = await t.throwsAsync(
    client.withClaim('big', 'mig-2', [{ device: 'gpu0' }], async (claim) => {
      t.is((await client.claims.get(claim.name)).state, 'CLAIM_STATE_ACTIVE');
      throw new Error('migration failed');
    }),
  );
  t.is(failure?.message, 'migration failed');
  await rejectsWith(t, client.claims.get('hosts/big/claims/mig-2'), grpc.status.NOT_FOUND);
  const kept = await client.withClaim('big', 'mig-3', [{ device: 'gpu0' }], async (claim) => claim.name);
  t.like(await client.claims.get(kept), { state: 'CLAIM_STATE_ACTIVE' });
});

test('claims are events on the watch feed, and WatchTargets follows claimed units (require_available drops a fully claimed device)', async (t) => {
  const { client } = await startTestServer(t);
  await fleet(client);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const feed = client.watch({ startRevision: 1, signal: controller.signal });
  const targets = client.watchTargets('hosts/src/devices/vf0', { requireAvailable: true, signal: controller.signal });
  // The baseline: both VFs are available.
  const baseline: string[] = [];
  // Read with next(): breaking out of a for-await would end the stream.
  for (;;) {
    const message = (await targets.next()).value!;
    baseline.push(...message.changes.map((c: { name: string }) => c.name));
    if (message.initial_complete) break;
  }
  t.deepEqual(baseline.sort(), ['hosts/big/devices/vf0', 'hosts/small/devices/vf0']);

  await client.claims.create('small', 'mig-9', [{ device: 'vf0' }], { reason: 'migrate vm 9' });
  const next = await targets.next();
  t.deepEqual(
    next.value?.changes.map((c: { kind: string; name: string }) => [c.kind, c.name]),
    [['TARGET_CHANGE_KIND_REMOVED', 'hosts/small/devices/vf0']],
    'the claimed VF has no free unit left',
  );

  for await (const message of feed) {
    const event = message.events.find((e) => e.resource === 'hosts/small/claims/mig-9');
    if (!event) continue;
    t.is(event.kind, 'CHANGE_KIND_CREATED');
    t.is(event.reason, 'migrate vm 9');
    t.is(event.after?.claim?.state, 'CLAIM_STATE_ACTIVE');
    break;
  }
});

test('FindPlacements ranks two hosts that tie but for a claim by the units left free: claimed units count as used', async (t) => {
  const { client } = await startTestServer(t);
  await fleet(client);
  const twin = (name: string) =>
    client.syncHost({
      name,
      devices: [
        { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 4, available: 4 } },
        { device_id: 'vf0', descriptor: VF, capacity: { total: 2, available: 2 } },
      ],
    });
  await twin('hosts/twin-a');
  await twin('hosts/twin-b');
  const hostsOf = async () =>
    (await collect(client.findPlacements(VM))).flatMap((i) => ('placement' in i ? [[i.placement.host, i.placement.key?.free_units_after]] : []));
  t.deepEqual((await hostsOf()).slice(0, 2), [['hosts/twin-a', 3], ['hosts/twin-b', 3]], 'alike: the name decides');
  // Another migration claims twin-a's spare VF: it still takes the VM exactly, with fewer units left.
  await client.claims.create('twin-a', 'other', [{ device: 'vf0' }]);
  t.deepEqual((await hostsOf()).slice(0, 2), [['hosts/twin-b', 3], ['hosts/twin-a', 2]]);
});

test('every placement FindPlacements returns can be claimed whole: 17 single-unit devices, or 32 units of one device', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({ name: 'hosts/src', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }, { device_id: 'vf0', descriptor: VF }] });
  await client.syncHost({
    name: 'hosts/wide',
    devices: Array.from({ length: 17 }, (_, i) => ({ device_id: `vf${i}`, descriptor: VF, capacity: { total: 1, available: 1 } })),
  });
  await client.syncHost({ name: 'hosts/dense', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 32, available: 32 } }] });
  const claimWhole = async (vm: { requestId: string; source: string; count?: number }[], claimId: string) => {
    const items = await collect(client.findPlacements(vm));
    const [placement] = items.flatMap((i) => ('placement' in i ? [i.placement] : []));
    t.truthy(placement, `a placement for ${claimId}`);
    const units = new Map<string, number>();
    for (const pair of placement.pairs) units.set(pair.target, (units.get(pair.target) ?? 0) + 1);
    const claim = await client.claims.create(placement.host, claimId, [...units].map(([device, count]) => ({ device, count })));
    return { host: placement.host, devices: claim.claim.devices.length, units: claim.claim.devices.reduce((sum, d) => sum + Number(d.count), 0) };
  };
  t.deepEqual(
    await claimWhole(
      [
        { requestId: 'nics', source: 'hosts/src/devices/vf0', count: 16 },
        { requestId: 'nic', source: 'hosts/src/devices/vf0' },
      ],
      'vm-wide',
    ),
    { host: 'hosts/wide', devices: 17, units: 17 },
  );
  t.deepEqual(
    await claimWhole(
      [
        { requestId: 'gpus', source: 'hosts/src/devices/gpu0', count: 16 },
        { requestId: 'more-gpus', source: 'hosts/src/devices/gpu0', count: 16 },
      ],
      'vm-dense',
    ),
    { host: 'hosts/dense', devices: 1, units: 32 },
  );
});

test('a host holding 256 live claims is no placement, and CreateClaim refuses it a 257th naming the host', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({ name: 'hosts/src', devices: [{ device_id: 'vf0', descriptor: VF }] });
  for (const name of ['hosts/busy', 'hosts/calm']) {
    await client.syncHost({ name, devices: [{ device_id: 'vf0', descriptor: VF, capacity: { total: 1000, available: 1000 } }] });
  }
  const hostsPlaced = async () =>
    (await collect(client.findPlacements([{ requestId: 'nic', source: 'hosts/src/devices/vf0' }]))).flatMap((i) => ('placement' in i ? [i.placement.host] : [])).sort();
  t.deepEqual(await hostsPlaced(), ['hosts/busy', 'hosts/calm']);
  for (let i = 0; i < 256; i++) await client.claims.create('busy', `mig-${i}`, [{ device: 'vf0' }]);
  t.deepEqual(await hostsPlaced(), ['hosts/calm'], 'busy has free units but can take no more claims');
  const refused = await rejectsWith(t, client.claims.create('busy', 'mig-256', [{ device: 'vf0' }]), grpc.status.ABORTED);
  t.is(refused.reason, 'CAPACITY_EXHAUSTED');
  t.deepEqual(refused.metadata, { host: 'hosts/busy', live_claims: '256', limit: '256' });
  await client.claims.release('hosts/busy/claims/mig-0');
  t.deepEqual(await hostsPlaced(), ['hosts/busy', 'hosts/calm'], 'a release makes room again');
  t.true((await client.claims.create('busy', 'mig-256', [{ device: 'vf0' }])).created);
});
