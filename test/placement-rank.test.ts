// Ranking hosts for a whole VM (server/core/placement-rank.ts) with real descriptors judged by
// the real engine: a VM with two vGPUs and a VF, a small fleet, the order a scheduler sees
// (key components in order, then host name), limits that count past themselves, and the
// explanation of hosts that take part of the VM. The budget-aware free-unit count feeds
// the ranking through claims.ts's accounting, as the registry will wire it.

import test from 'ava';
import type { Budget } from '../server/core/budgets.ts';
import { createClaim, emptyBook, validateCreateClaim, type ClaimCaller, type HostCapacity } from '../server/core/claims.ts';
import { evaluate } from '../server/core/engine.ts';
import type { Capacity, Descriptor, DescriptorInput } from '../server/core/model.ts';
import { hostInstance, rankPlacements, type HostCandidate, type HostDevice } from '../server/core/placement-rank.ts';
import { rankKey } from '../server/core/rank.ts';
import { validateDescriptor } from '../server/core/validate.ts';

const ANYONE: ClaimCaller = { identity: 'sched-a', actsForAnyone: true };

function vgpu(version: string): DescriptorInput {
  return { vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525', software_version: version };
}
const VF: DescriptorInput = { vendor: '15b3', device_api: 'vfio-pci', type: 'mlx5_vfio_pci', software_version: '1.0.0' };

const sources = [
  { requestId: 'gpu', count: 2, descriptor: validateDescriptor(vgpu('535.104.5')) },
  { requestId: 'nic', count: 1, descriptor: validateDescriptor(VF) },
];

interface DeviceModel {
  id: string;
  descriptor: DescriptorInput;
  capacity?: Capacity;
}

/** Builds a host's instance the way the registry will: candidates of the VM's kinds, claims, budgets. */
function hostOf(hostId: string, devices: DeviceModel[], budgets: Budget[] = [], claims: Record<string, number> = {}): HostCandidate {
  const capacity: HostCapacity = { devices: new Map(devices.map((d) => [d.id, d.capacity])), budgets };
  let book = emptyBook(hostId);
  if (Object.keys(claims).length > 0) {
    const spec = validateCreateClaim({ parent: `hosts/${hostId}`, claim_id: 'other-migration', devices: Object.entries(claims).map(([device, count]) => ({ device, count })) });
    book = createClaim(book, capacity, spec, ANYONE, 0).book;
  }
  const descriptors = new Map<string, Descriptor>();
  const all: HostDevice[] = devices.map((d) => {
    const descriptor = validateDescriptor(d.descriptor);
    descriptors.set(descriptor.key, descriptor);
    return { deviceId: d.id, name: `hosts/${hostId}/devices/${d.id}`, descriptorKey: descriptor.key };
  });
  const judge = (r: number, descriptorKey: string) => {
    const target = descriptors.get(descriptorKey)!;
    return rankKey(sources[r].descriptor, target, evaluate(sources[r].descriptor, target));
  };
  // The registry's kind indexes would give these: devices of the sources' vendor and type.
  const candidates = all.filter((d) => {
    const target = descriptors.get(d.descriptorKey)!;
    return sources.some((source) => source.descriptor.vendor === target.vendor && source.descriptor.type === target.type);
  });
  const instance = hostInstance({
    requests: sources.map(({ requestId, count }) => ({ requestId, count })),
    candidates,
    allDevices: (id) => all.find((d) => d.deviceId === id),
    capacity,
    book,
    judge,
  });
  return { hostId, instance };
}

const cap = (available: number, total = 4): Capacity => ({ total, available });

const fleet = [
  // Exact for every device, 4 + 1 free units; 2 + 1 used -> 2 left.
  hostOf('h-exact', [{ id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(4) }, { id: 'vf0', descriptor: VF, capacity: cap(1, 1) }]),
  // The same, with more free units left afterwards: ranks before h-exact.
  hostOf('h-roomy', [{ id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(4) }, { id: 'gpu1', descriptor: vgpu('535.104.5'), capacity: cap(4) }, { id: 'vf0', descriptor: VF, capacity: cap(1, 1) }]),
  // The same as h-exact under another name: the name breaks the tie.
  hostOf('h-exact2', [{ id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(4) }, { id: 'vf0', descriptor: VF, capacity: cap(1, 1) }]),
  // Newer minor vGPU driver: two non-exact pairs, |Δminor| 2 each.
  hostOf('h-newer', [{ id: 'gpu0', descriptor: vgpu('535.106.5'), capacity: cap(4) }, { id: 'vf0', descriptor: VF, capacity: cap(1, 1) }]),
  // Only one exact vGPU unit, and a newer one: one exact and one non-exact vGPU pair beats h-newer.
  hostOf('h-mixed', [{ id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(1) }, { id: 'gpu1', descriptor: vgpu('535.105.0'), capacity: cap(4) }, { id: 'vf0', descriptor: VF, capacity: cap(1, 1) }]),
  // No VF at all: takes both vGPUs, the NIC is missing.
  hostOf('h-novf', [{ id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(4) }]),
  // Its VF is claimed by another migration: it is compatible but not free.
  hostOf('h-claimed', [{ id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(4) }, { id: 'vf0', descriptor: VF, capacity: cap(1, 1) }], [], { vf0: 1 }),
  // Older major: incompatible vGPUs, only the VF fits.
  hostOf('h-old', [{ id: 'gpu0', descriptor: vgpu('470.1.0'), capacity: cap(4) }, { id: 'vf0', descriptor: VF }]),
];

test('hosts that take the whole VM come best first: fewer non-exact pairs, smaller distance, more free units, then name', (t) => {
  const result = rankPlacements(fleet, { limit: 10, explain: false, explainLimit: 10 });
  t.deepEqual(result.placements.map((p) => p.hostId), ['h-roomy', 'h-exact', 'h-exact2', 'h-mixed', 'h-newer']);
  t.deepEqual(result.placements.map((p) => [p.assignment.key.nonExact, p.assignment.key.distance[1], p.assignment.key.freeUnitsAfter]), [
    [0, 0, 6],
    [0, 0, 2],
    [0, 0, 2],
    [1, 1, 3],
    [2, 4, 2],
  ]);
  const mixed = result.placements[3].assignment;
  const names = (hostId: string) => fleet.find((h) => h.hostId === hostId)!.instance.devices;
  t.deepEqual(
    mixed.pairs.map((p) => `${sources[p.request].requestId}[${p.unit}] -> ${names('h-mixed')[p.device].name}`),
    ['gpu[0] -> hosts/h-mixed/devices/gpu0', 'gpu[1] -> hosts/h-mixed/devices/gpu1', 'nic[0] -> hosts/h-mixed/devices/vf0'],
  );
  t.deepEqual(result.partial, [], 'without explain, no partial hosts');
  t.is(result.hostsExamined, fleet.length);
});

test('a limit keeps the best placements and still counts every host that fits', (t) => {
  const result = rankPlacements(fleet, { limit: 2, explain: false, explainLimit: 0 });
  t.deepEqual(result.placements.map((p) => p.hostId), ['h-roomy', 'h-exact']);
  t.is(result.placementCount, 5);
});

test('with explain, hosts that take part of the VM follow, most units first, with what is missing and why', (t) => {
  const result = rankPlacements(fleet, { limit: 10, explain: true, explainLimit: 10 });
  t.deepEqual(
    result.partial.map((p) => [p.hostId, p.placedUnits, p.missing.map((m) => `${m.requestId} ${m.placed}/${m.needed} ${m.reason} (${m.compatibleDevices} compatible)`)]),
    [
      ['h-claimed', 2, ['nic 0/1 NO_FREE_UNIT (1 compatible)']],
      ['h-novf', 2, ['nic 0/1 NO_COMPATIBLE_DEVICE (0 compatible)']],
      ['h-old', 1, ['gpu 0/2 NO_COMPATIBLE_DEVICE (0 compatible)']],
    ],
  );
  t.is(result.partialCount, 3);
});

test('shared budgets limit what a host can take: two vGPU types of one parent cannot both be filled', (t) => {
  // One parent GPU with 8 units of memory, 6 free; the exact type uses 4 per instance. A
  // third type of the parent (no candidate: another type) draws on it too.
  const budget: Budget = { budgetId: 'gpu0/fb', parent: 'gpu0', total: 8, available: 6, consumption: new Map([['gpu0-a', 4], ['gpu0-b', 2], ['gpu0-c', 1]]) };
  const tight = hostOf('h-budget', [
    { id: 'gpu0-a', descriptor: vgpu('535.104.5'), capacity: cap(2) },
    { id: 'gpu0-b', descriptor: vgpu('535.104.9'), capacity: cap(4) },
    { id: 'gpu0-c', descriptor: { ...vgpu('535.104.5'), type: 'nvidia-999' }, capacity: cap(2) },
    { id: 'vf0', descriptor: VF, capacity: cap(1, 1) },
  ], [budget]);
  t.deepEqual(tight.instance.devices.map((d) => d.name.split('/').at(-1)), ['gpu0-a', 'gpu0-b', 'vf0', 'gpu0-c'], 'the sibling joins the candidates');
  t.is(tight.instance.hostFreeUnits, 1 + 3 + 2 + 1);
  const result = rankPlacements([tight], { limit: 10, explain: true, explainLimit: 10 });
  // 6 units of memory: one exact (4) + one patch-newer (2), never two exact (8).
  t.deepEqual(result.placements.map((p) => [p.assignment.key.nonExact, p.assignment.key.distance[2]]), [[1, 4]]);
  t.is(result.placements[0].assignment.key.freeUnitsAfter, 0, 'the budget is used up (the sibling type too), the VF taken');
});

test('claimed units count as used in the free-units tie-break: of two hosts alike but for a claim, the unclaimed one comes first', (t) => {
  const devices = (): DeviceModel[] => [
    { id: 'gpu0', descriptor: vgpu('535.104.5'), capacity: cap(4) },
    { id: 'gpu1', descriptor: vgpu('535.104.5'), capacity: cap(4) },
    { id: 'vf0', descriptor: VF, capacity: cap(1, 1) },
  ];
  // `h-a` would win on its name; another migration's claim on three of its units leaves it fewer.
  const claimed = hostOf('h-a', devices(), [], { gpu1: 3 });
  const free = hostOf('h-b', devices());
  const result = rankPlacements([claimed, free], { limit: 10, explain: false, explainLimit: 0 });
  t.deepEqual(
    result.placements.map((p) => [p.hostId, p.assignment.key.nonExact, p.assignment.key.freeUnitsAfter]),
    [
      ['h-b', 0, 9 - 3],
      ['h-a', 0, 9 - 3 - 3],
    ],
  );
  // Without the claim the name decides: h-a first.
  const tied = rankPlacements([hostOf('h-a', devices()), free], { limit: 10, explain: false, explainLimit: 0 });
  t.deepEqual(tied.placements.map((p) => p.hostId), ['h-a', 'h-b']);
});
