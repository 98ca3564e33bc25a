// What the agent drops when the registry refuses its sync (agent/refused-devices.ts): exactly
// the devices the violations name, or those past the registry's count per host, their draws on
// shared budgets with them, and nothing when a violation is about neither.

import test from 'ava';
import type { SyncHostRequest } from '../client/client.ts';
import { withoutRefused } from '../agent/refused-devices.ts';

const descriptor = { vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };
const request: SyncHostRequest = {
  name: 'hosts/h1',
  labels: {},
  devices: ['gpu0', 'gpu1', 'fpga0'].map((device_id) => ({ device_id, descriptor })),
  budgets: [
    { budget_id: 'mem', total: 8, available: 8, consumption: { gpu0: 2, fpga0: 1 } },
    { budget_id: 'fpga-slots', total: 1, available: 1, consumption: { fpga0: 1 } },
  ],
};

test('the devices named are dropped with every reason, their budget draws with them; a budget with no consumer left goes', (t) => {
  const result = withoutRefused(request, [
    { field: 'devices[2].descriptor.software_version', description: 'must be a semantic version' },
    { field: 'devices[2].descriptor.type', description: 'too long' },
  ]);
  t.deepEqual(result?.refused, [{ device_id: 'fpga0', violations: ['devices[2].descriptor.software_version: must be a semantic version', 'devices[2].descriptor.type: too long'] }]);
  t.deepEqual(result?.request.devices.map((d) => d.device_id), ['gpu0', 'gpu1']);
  t.deepEqual(result?.request.budgets, [{ budget_id: 'mem', total: 8, available: 8, consumption: { gpu0: 2 } }]);
  t.is(result?.request.name, 'hosts/h1');
});

test('more devices than the registry takes per host: the first ones stay, the rest are dropped together with their budget draws', (t) => {
  const result = withoutRefused(request, [{ field: 'devices', description: 'at most 2 devices per host, got 3' }]);
  t.deepEqual(result?.refused, [{ device_id: 'fpga0', violations: ['devices: at most 2 devices per host, got 3; this device is past the first 2'], pastLimit: true }]);
  t.deepEqual(result?.request.devices.map((d) => d.device_id), ['gpu0', 'gpu1']);
  t.deepEqual(result?.request.budgets, [{ budget_id: 'mem', total: 8, available: 8, consumption: { gpu0: 2 } }]);
  // With a device of its own refused too, that one is named one by one.
  const both = withoutRefused(request, [
    { field: 'devices', description: 'at most 2 devices per host, got 3' },
    { field: 'devices[1].descriptor.type', description: 'too long' },
  ]);
  t.deepEqual(both?.request.devices.map((d) => d.device_id), ['gpu0']);
  t.deepEqual(both?.refused.map((d) => [d.device_id, d.pastLimit ?? false]), [['gpu1', false], ['fpga0', true]]);
});

test('a violation that is not about one device leaves nothing to drop: the sync fails as it is', (t) => {
  // A count the request does not pass (another registry's limit, a garbled message): nothing to drop.
  t.is(withoutRefused(request, [{ field: 'devices', description: 'at most 4096 devices per host, got 5000' }]), undefined);
  t.is(withoutRefused(request, [{ field: 'devices', description: 'too many' }]), undefined);
  t.is(withoutRefused(request, [{ field: 'labels["Bad"]', description: 'not a label key' }, { field: 'devices[0].device_id', description: 'bad' }]), undefined);
  t.is(withoutRefused(request, [{ field: 'devices[7].device_id', description: 'out of range' }]), undefined);
  t.is(withoutRefused(request, []), undefined);
});
