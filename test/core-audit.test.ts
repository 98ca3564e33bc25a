// The audit chain's upkeep in the core, on the in-memory store and a manual clock:
// verification walks the whole chain (in chunks) and finds an expected head or says it is
// not there; compaction moves the checkpoint and what can be read; retention by revisions
// and by age compacts to the right revision (tampering with a real file: test/audit.test.ts).

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import { openCore, ORIGIN, syncOf } from './helpers/core.ts';

const DAY = 86_400_000;

test('verification walks every entry to the head, across chunks, and finds an expected head', async (t) => {
  const { registry } = await openCore();
  const many = (n: number) => Array.from({ length: n }, (_, i) => `vf${String(i).padStart(4, '0')}`);
  const first = await registry.syncHost(syncOf('a', many(3000)), ORIGIN);
  const firstHead = registry.headHash;
  await registry.syncHost(syncOf('b', many(3000)), ORIGIN);
  const result = await registry.verifyHistory(firstHead);
  t.like(result, { intact: true, checked: 6002, headRevision: 2, headHash: registry.headHash, checkpoint: { revision: 0 } });
  t.is(first.revision, 1);

  const unknown = await registry.verifyHistory('ab'.repeat(32));
  t.false(unknown.intact);
  t.is(unknown.broken?.problem, 'HEAD_NOT_FOUND');
  t.is(unknown.checked, 6002);
  await registry.close();
});

test('compaction moves the checkpoint: older revisions cannot be read or watched, the chain still verifies', async (t) => {
  const { registry } = await openCore();
  for (const name of ['a', 'b', 'c']) await registry.syncHost(syncOf(name), ORIGIN);
  const future = await t.throwsAsync(registry.compact(4));
  t.true(future instanceof DomainError && future.reason === 'INVALID_ARGUMENT');
  const result = await registry.compact(2);
  t.is(result.checkpoint.revision, 2);
  t.is(result.removed, 4);
  t.deepEqual(registry.checkpoint, result.checkpoint);
  t.is(registry.oldestRevision, 3);
  const verified = await registry.verifyHistory(registry.headHash);
  t.like(verified, { intact: true, checked: 2, checkpoint: result.checkpoint });
  const gone = await t.throwsAsync(registry.read({ revision: 1 }));
  t.true(gone instanceof DomainError && gone.reason === 'REVISION_COMPACTED');
  t.deepEqual((gone as DomainError).metadata, { revision: '1', oldest_revision: '2' });
  await registry.close();
});

test('retention keeps the last N revisions, or the history of the last N ms', async (t) => {
  const { registry, clock } = await openCore();
  const start = clock.now();
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    await registry.syncHost(syncOf(name), ORIGIN); // revision n at start + (n - 1) days
    clock.advance(DAY);
  }
  const byCount = await registry.applyRetention({ kind: 'revisions', keep: 4 });
  t.is(byCount?.checkpoint.revision, 1);
  t.is(await registry.applyRetention({ kind: 'revisions', keep: 4 }), undefined, 'nothing more to remove');

  // Now start + 5 days: keeping 2.5 days keeps the registry as it was from start + 2.5 days
  // on — revision 3 was in force then, so it stays, and everything before it goes.
  t.is(clock.now(), start + 5 * DAY);
  const byAge = await registry.applyRetention({ kind: 'age', keepMs: 2.5 * DAY });
  t.is(byAge?.checkpoint.revision, 2, 'up to the revision before the one in force at the cut');
  clock.advance(DAY);
  const later = await registry.applyRetention({ kind: 'age', keepMs: 2.5 * DAY });
  t.is(later?.checkpoint.revision, 3);
  t.true((await registry.verifyHistory(registry.headHash)).intact);
  await registry.close();
});
