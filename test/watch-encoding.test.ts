// The watch feed's encoding (server/grpc/watch-encoding.ts) writes each device's descriptor from
// bytes kept per descriptor and lets protobufjs encode the rest. A client must not be able to
// tell: every message decodes exactly as the message built field by field and encoded whole by
// protobufjs would, for hosts, devices (with and without capacity and labels, created, changed
// in place, changed to another descriptor, deleted), claims, and the views a device filter makes
// (a device entering or leaving the filter). On the in-memory core (test/helpers/core.ts).

import test from 'ava';
import { validateCreateClaim } from '../server/core/claims.ts';
import { WatchHub, type Acceptance, type WatchDelivery, type WatchFilter, type WatchSink } from '../server/core/watch-hub.ts';
import { encodeDelivery, wholeEncoding } from '../server/grpc/watch-encoding.ts';
import { protoRoot } from '../proto/load.ts';
import { GPU, openCore, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';
import { referenceEncoding } from './helpers/watch-reference.ts';

const WatchResponse = () => protoRoot().lookupType('devcompat.v1.WatchResponse');

const decoded = (bytes: Buffer) => WatchResponse().toObject(WatchResponse().decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true });

class Collect implements WatchSink {
  readonly deliveries: WatchDelivery[] = [];
  deliver(delivery: WatchDelivery): Acceptance {
    this.deliveries.push(delivery);
    return 'ready';
  }
  progress(): void {}
  drained(): Promise<void> {
    return Promise.resolve();
  }
  fail(): void {}
}

const ALL: WatchFilter = { hostId: undefined, vendor: undefined, deviceApi: undefined, type: undefined };
const A10_8Q = {
  ...GPU,
  type: 'nvidia-a10-8q',
  compatible_types: ['nvidia-a10-4q'],
  attributes: { pci_ids: { set_value: { values: ['2236', '2237'] } }, fb_mib: { int_value: 8192 }, note: { string_value: 'x' }, mig: { bool_value: true } },
  rules: { pci_ids: { op: 'COMPARE_OP_SUPERSET', values: [] } },
};

test('every kind of event decodes exactly as the message encoded whole, unfiltered and through a type filter', async (t) => {
  const { registry } = await openCore();
  const hub = new WatchHub(registry);
  t.teardown(async () => {
    hub.close();
    await registry.close();
  });
  const all = new Collect();
  const typed = new Collect();
  hub.open({ startRevision: undefined, filter: ALL, progressIntervalMs: 3_600_000 }, all);
  hub.open({ startRevision: undefined, filter: { ...ALL, type: 'nvidia-a10-8q' }, progressIntervalMs: 3_600_000 }, typed);
  await new Promise((resolve) => setImmediate(resolve)); // the watches go live

  // Created: a host with labels, devices with and without capacity, two descriptors.
  await registry.syncHost(syncOf('h1', ['gpu0', { id: 'gpu1', available: 3, descriptor: A10_8Q }], { rack: 'r1' }), ORIGIN);
  // Changed in place (capacity), and one device moving into the type, one out of it.
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', descriptor: A10_8Q }, { id: 'gpu1', available: 2 }], { rack: 'r1' }), ORIGIN);
  // A claim created and released.
  const claim = await registry.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'c1', devices: [{ device: 'gpu0' }] }), ORIGIN, ANYONE);
  await registry.releaseClaim('h1', claim.claim.claimId, ORIGIN, ANYONE);
  // The host drained, then deleted with its devices.
  await registry.setDraining('h1', true, { actor: 'ops', reason: 'maintenance' });
  await registry.deleteHost('h1', undefined, ORIGIN);

  t.true(all.deliveries.length >= 6);
  const kinds = new Set(all.deliveries.flatMap((d) => d.events.map((view) => `${view.entry.deviceId === '' ? 'host' : view.entry.deviceId.startsWith('claims/') ? 'claim' : 'device'} ${view.kind}`)));
  for (const kind of ['host CREATED', 'device CREATED', 'device UPDATED', 'claim CREATED', 'host UPDATED', 'device DELETED', 'host DELETED']) {
    t.true(kinds.has(kind), kind);
  }
  t.true(typed.deliveries.some((d) => d.events.some((view) => view.enteredFilter)));
  t.true(typed.deliveries.some((d) => d.events.some((view) => view.leftFilter)));
  for (const delivery of [...all.deliveries, ...typed.deliveries]) {
    const encoded = delivery.whole ? wholeEncoding(delivery, registry) : encodeDelivery(delivery, registry);
    t.deepEqual(decoded(encoded), decoded(referenceEncoding(delivery, registry)), `revision ${delivery.change.revision}`);
  }
});
