// A standing question: keep the set of places a vGPU could go current as the registry
// changes. WatchTargets sends the initial set (messages with `initial`, the last with
// `initial_complete`), then one message per revision with the targets ADDED, REMOVED or
// UPDATED; applying them to a map keeps it equal to what FindTargets would answer now.
// Run: node watch-targets.js <address>.
import { DevcompatClient, type DescriptorInput, type TargetChange } from '@devcompat/client';

const address = process.argv[2] ?? 'localhost:7443';
const client = new DevcompatClient({ address, actor: 'example-scheduler' });
const gvt: DescriptorInput = {
  vendor: '8086',
  device_api: 'vfio-pci',
  type: 'i915-GVTg_V5_4',
  software_version: '1.3.0',
  attributes: { pci_ids: { set_value: { values: ['3e92'] } } },
  rules: { pci_ids: { op: 'COMPARE_OP_SUPERSET' } },
};
for (const host of ['w-src', 'w-1', 'w-2']) await client.syncHost({ name: `hosts/${host}`, devices: [{ device_id: 'gvt0', descriptor: gvt }] });

/** The current targets by name; best first is by `sort_key`, ascending. */
const targets = new Map<string, TargetChange>();
const apply = (change: TargetChange) => {
  if (change.kind === 'TARGET_CHANGE_KIND_REMOVED') targets.delete(change.name);
  else targets.set(change.name, change); // ADDED or UPDATED: the change carries the whole target
};
const ranked = () => [...targets.values()].sort((a, b) => (a.sort_key < b.sort_key ? -1 : a.sort_key > b.sort_key ? 1 : 0)).map((t) => t.name);

const stop = new AbortController();
let step = 0;
for await (const message of client.watchTargets('hosts/w-src/devices/gvt0', { signal: stop.signal })) {
  message.changes.forEach(apply);
  if (message.initial && !message.initial_complete) continue;
  console.log(`revision ${message.revision}: ${ranked().join(' ') || '(none)'}`);
  if (step === 0) await client.setHostDraining('w-1', true); // w-1 leaves the set
  if (step === 1) await client.syncHost({ name: 'hosts/w-3', devices: [{ device_id: 'gvt0', descriptor: gvt }] }); // w-3 joins
  if (step === 2) stop.abort(); // ends the loop quietly
  step++;
}
client.close();
