// Property: for any sequence of writes (syncs that add, change and remove devices, host
// deletions and re-creations, draining), the registry's view at every past revision R is
// exactly the state it held right after R was committed: devices, descriptors, capacities,
// labels and host states. Also after compaction, for every R the compaction kept. The
// registry runs on the real SQLite store (in its worker thread), on a temp file, and reads
// past views three revisions of history at a time (point-in-time.ts's slices).

import test from 'ava';
import fc from 'fast-check';
import path from 'node:path';
import { DomainError } from '../server/core/errors.ts';
import { Registry } from '../server/core/registry.ts';
import { validateSyncHost } from '../server/core/resources.ts';
import { WorkerStore } from '../server/store/worker-store.ts';
import { tempDir } from './helpers/server.ts';

const HOSTS = ['a', 'b', 'c'];
const DEVICES = ['d0', 'd1', 'd2'];

type Op =
  | { kind: 'sync'; host: string; devices: { id: string; version: number; available: number }[]; label: string }
  | { kind: 'delete'; host: string }
  | { kind: 'drain'; host: string; draining: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      host: fc.constantFrom(...HOSTS),
      devices: fc.uniqueArray(
        fc.record({ id: fc.constantFrom(...DEVICES), version: fc.integer({ min: 0, max: 3 }), available: fc.integer({ min: 0, max: 2 }) }),
        { selector: (d) => d.id, maxLength: 3 },
      ),
      label: fc.constantFrom('x', 'y'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), host: fc.constantFrom(...HOSTS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const), host: fc.constantFrom(...HOSTS), draining: fc.boolean() }) },
);

const origin = { actor: 'property', reason: '' };

/**
 * Everything a point-in-time read can show, in a comparable form: devices whole, and of each
 * host what FindTargets looks at (labels and state). A host's own revision and times are not
 * served at a past revision (GetHost has no as_of): a device-only write moves them without a
 * host entry in history.
 */
function snapshotOf(hosts: Iterable<{ record: any; devices: ReadonlyMap<string, any> }>): string[] {
  const lines: string[] = [];
  for (const host of hosts) {
    lines.push(`host ${host.record.hostId} ${JSON.stringify(host.record.labels)} reachable=${host.record.reachable} draining=${host.record.draining}`);
    for (const device of host.devices.values()) {
      const r = device.record;
      lines.push(`device ${r.hostId}/${r.deviceId} ${device.entry.descriptor.key} ${JSON.stringify(r.capacity)} rev=${r.revision}`);
    }
  }
  return lines.sort();
}

test('the view at every past revision is the state right after that revision', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  let written = 0;
  let refused = 0;
  let revisionsChecked = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 30 }), async (ops, cut) => {
      const store = await WorkerStore.open({ path: path.join(dir, `r${run++}.db`), durability: 'relaxed' });
      // Past views read three revisions of history per store call, so that most are built from several slices.
      const registry = await Registry.open(store, { pastViewSliceRevisions: 3 });
      try {
        const states = new Map<number, string[]>();
        const current = () => snapshotOf(HOSTS.flatMap((id) => registry.findHost(id) ?? []));
        states.set(0, current());
        for (const o of ops) {
          const existed = registry.findHost(o.host) !== undefined;
          try {
            if (o.kind === 'sync') {
              await registry.syncHost(
                validateSyncHost({
                  name: o.host,
                  labels: { l: o.label },
                  devices: o.devices.map((d) => ({
                    device_id: d.id,
                    descriptor: { vendor: 'v', device_api: 'vfio-pci', type: 't', software_version: `1.${d.version}.0` },
                    capacity: { total: 2, available: d.available },
                  })),
                }),
                origin,
              );
            } else if (o.kind === 'delete') {
              await registry.deleteHost(o.host, undefined, origin);
            } else {
              await registry.setDraining(o.host, o.draining, origin);
            }
            written++;
          } catch (error) {
            // Only deleting or draining a missing host may be refused (nothing changes);
            // anything else fails the property.
            if (!(error instanceof DomainError && error.reason === 'NOT_FOUND' && o.kind !== 'sync' && !existed)) throw error;
            refused++;
          }
          states.set(registry.revision, current());
        }
        const compactTo = Math.min(cut, registry.revision);
        if (compactTo > 0) await registry.compact(compactTo);
        for (const [revision, expected] of states) {
          if (revision < registry.checkpoint.revision) continue;
          const view = await registry.viewAt(revision);
          revisionsChecked++;
          t.deepEqual(snapshotOf(view.hosts.values()), expected, `revision ${revision} of ${registry.revision}`);
        }
        const verified = await registry.verifyHistory(registry.headHash);
        t.true(verified.intact);
      } finally {
        await registry.close();
        await store.close();
      }
    }),
    { numRuns: 40, seed: 20261127 },
  );
  // The property is about something only if most writes went through and many past
  // revisions were compared.
  t.log(`${written} writes, ${refused} refused, ${revisionsChecked} past views compared`);
  t.true(written >= 150 && written >= 4 * refused, `${written} writes succeeded, ${refused} were refused`);
  t.true(revisionsChecked >= 60, `${revisionsChecked} past views compared`);
});
