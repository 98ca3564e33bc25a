// The store contract's helpers (server/core/store.ts) that every store and the core share: a
// claim's history entries carry `claims/<id>` in place of a device id and are told apart by it,
// a history query's defaults, and the error a shared store refuses a stale batch with. Pure
// functions, and one claim written through a registry on the in-memory store.

import test from 'ava';
import { validateCreateClaim } from '../server/core/claims.ts';
import { claimEntryId, claimIdOfEntry, historyQuery, StaleBatchError } from '../server/core/store.ts';
import { openCore, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';

test('a claim entry id is claims/<id>; only such ids name a claim', (t) => {
  t.is(claimEntryId('mig-1'), 'claims/mig-1');
  t.is(claimIdOfEntry('claims/mig-1'), 'mig-1');
  t.is(claimIdOfEntry(claimEntryId('a/b')), 'a/b');
  for (const deviceId of ['gpu0', '', 'claims', 'x/claims/', 'gpu0claims/']) t.is(claimIdOfEntry(deviceId), undefined, deviceId);
});

test('a claim written through the registry is a history entry under claims/<id>', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  await registry.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'mig-1', devices: [{ device: 'gpu0' }] }), ORIGIN, ANYONE);
  const entries = await registry.listHistory(historyQuery({ hostId: 'h1', startRevision: 2, limit: 10 }));
  t.deepEqual(entries.map((e) => [e.revision, e.deviceId, e.change]), [[2, 'claims/mig-1', 'CREATED']]);
  await registry.close();
});

test('a history query: every entry, oldest first, unless fields narrow it', (t) => {
  const all = {
    hostId: undefined,
    deviceId: undefined,
    startRevision: undefined,
    endRevision: undefined,
    startTime: undefined,
    endTime: undefined,
    actor: undefined,
    newestFirst: false,
    after: undefined,
    limit: 7,
  };
  t.deepEqual(historyQuery({ limit: 7 }), all);
  t.deepEqual(historyQuery({ limit: 7, hostId: 'h1', newestFirst: true }), { ...all, hostId: 'h1', newestFirst: true });
});

test('a stale batch: a StaleBatchError naming the head it moved to', (t) => {
  const error = new StaleBatchError(12);
  t.true(error instanceof Error);
  t.is(error.name, 'StaleBatchError');
  t.is(error.head, 12);
  t.is(error.message, 'the registry moved on to revision 12 while the batch was planned');
});
