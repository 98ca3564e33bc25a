// The audit (server/core/audit.ts) in detail, on the in-memory store with a manual clock:
// the exact result of a verification (an untouched chain, a chain compacted to its head, an
// expected head that is the checkpoint), each way it reports a break (an entry rewritten, the
// tail removed, a compaction record rewritten, an unknown head) with its exact description,
// the records compaction writes and its bound, and a replica verifying after another server
// compacted the shared store. Tampering edits the memory store's contents, as audit.test.ts
// edits a SQLite file.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { MemoryStore } from '../server/store/memory-store.ts';
import { openCore, openReplicas, ORIGIN, syncOf } from './helpers/core.ts';

interface Tamperable {
  contents: { history: { columns: { reason: string }; prev: string; hash: string }[]; compactions: { actor: string }[] };
}

/** Replaces the store's contents with `edit(contents)`, behind the registry's back. */
function tamper(store: MemoryStore, edit: (contents: Tamperable['contents']) => Tamperable['contents']): void {
  const backend = (store as unknown as { backend: Tamperable }).backend;
  backend.contents = edit(backend.contents);
}

/** Three revisions (hosts a, b, c with one device each: two entries per revision); the head hash after each. */
async function three() {
  const rig = await openCore();
  const heads: string[] = [];
  for (const name of ['a', 'b', 'c']) {
    await rig.registry.syncHost(syncOf(name), ORIGIN);
    heads.push(rig.registry.headHash);
  }
  return { ...rig, heads };
}

test('an untouched chain: intact, every entry checked, the head, no checkpoint and no compactions', async (t) => {
  const { registry, heads } = await three();
  const expected = { intact: true, checked: 6, headRevision: 3, headHash: heads[2], checkpoint: registry.checkpoint, compactions: [] };
  t.deepEqual(await registry.verifyHistory(undefined), expected);
  t.deepEqual(await registry.verifyHistory(heads[0]), expected, 'an older head is on the chain');
  t.is(registry.checkpoint.revision, 0);
});

test('compaction: up to the head and no further, with the exact refusal; what it records; the chain still verifies', async (t) => {
  const { registry, heads, clock } = await three();
  const refused = await t.throwsAsync(registry.compact(4));
  t.true(refused instanceof DomainError);
  t.deepEqual((refused as DomainError).violations, [{ field: 'revision', description: 'is after the current revision 3' }]);
  const result = await registry.compact(3, 'alice');
  t.is(result.checkpoint.revision, 3);
  t.is(result.removed, 6);
  t.like(result.record, { actor: 'alice', removed: 6, headRevision: 3, headHash: heads[2], time: clock.now(), checkpoint: result.checkpoint });

  // Nothing after the checkpoint: the head is the checkpoint's, and it is the server's.
  const verified = await registry.verifyHistory(undefined);
  t.like(verified, { intact: true, checked: 0, headRevision: 3, headHash: heads[2], checkpoint: result.checkpoint });
  t.is(verified.broken, undefined);
  t.deepEqual(verified.compactions.map((c) => [c.actor, c.headRevision, c.headHash, c.checkpoint.revision]), [['alice', 3, heads[2], 3]]);
  t.true((await registry.verifyHistory(result.checkpoint.hash)).intact, 'the checkpoint hash is the chain head then');
});

test('an expected head on the chain after a checkpoint, and one that is the checkpoint', async (t) => {
  const { registry, heads } = await three();
  const { checkpoint } = await registry.compact(1);
  t.is(checkpoint.hash, heads[0]);
  for (const head of [heads[0], heads[1], heads[2]]) {
    t.like(await registry.verifyHistory(head), { intact: true, checked: 4, headRevision: 3, headHash: heads[2] });
  }
});

test('an unknown expected head: HEAD_NOT_FOUND with the exact description', async (t) => {
  const { registry } = await three();
  await registry.compact(1);
  const unknown = 'ab'.repeat(32);
  const result = await registry.verifyHistory(unknown);
  t.like(result, { intact: false, checked: 4, headRevision: 3 });
  t.deepEqual(result.broken, {
    revision: 0,
    seq: 0,
    problem: 'HEAD_NOT_FOUND',
    description: `no entry has the expected head ${unknown}: history was rewritten or its tail removed (or the head predates the checkpoint at revision 1)`,
  });
});

test('the tail removed behind the server: HEAD_MISMATCH naming both heads', async (t) => {
  const { registry, store, heads } = await three();
  tamper(store, (c) => ({ ...c, history: c.history.slice(0, 4) }));
  const result = await registry.verifyHistory(undefined);
  t.like(result, { intact: false, checked: 4, headRevision: 2, headHash: heads[1] });
  t.deepEqual(result.broken, {
    revision: 2,
    seq: 0,
    problem: 'HEAD_MISMATCH',
    description:
      `the stored chain ends at revision 2 (${heads[1].slice(0, 12)}…), but the server's head is revision 3 (${heads[2].slice(0, 12)}…): ` +
      `entries were removed or rewritten behind the server's back`,
  });
});

test('an entry rewritten: not intact, the break where the walk found it, the last good entry its head', async (t) => {
  const { registry, store, heads } = await three();
  tamper(store, (c) => ({ ...c, history: c.history.map((e, i) => (i === 2 ? { ...e, columns: { ...e.columns, reason: 'rewritten' } } : e)) }));
  const result = await registry.verifyHistory(undefined);
  t.false(result.intact);
  t.like(result, { checked: 3, headRevision: 1, headHash: heads[0] });
  t.like(result.broken, { revision: 2, seq: 0 });
  t.not(result.broken?.problem, 'HEAD_MISMATCH');
});

test('a compaction record rewritten: COMPACTION_RECORD_BROKEN at the checkpoint', async (t) => {
  const { registry, store } = await three();
  await registry.compact(1);
  tamper(store, (c) => ({ ...c, compactions: c.compactions.map((r) => ({ ...r, actor: 'mallory' })) }));
  const result = await registry.verifyHistory(undefined);
  t.like(result, { intact: false, checked: 4, headRevision: 3 });
  t.like(result.broken, { revision: 1, seq: 0, problem: 'COMPACTION_RECORD_BROKEN' });
  t.true((result.broken?.description.length ?? 0) > 0, 'says what is broken');
});

test('a replica verifies from the latest checkpoint another server wrote to the shared store', async (t) => {
  const { rigs } = await openReplicas(2);
  const [writer, other] = rigs;
  for (const name of ['a', 'b', 'c', 'd']) await writer.registry.syncHost(syncOf(name), ORIGIN);
  await other.registry.catchUp();
  for (const revision of [1, 2, 3]) await writer.registry.compact(revision);
  const result = await other.registry.verifyHistory(undefined);
  t.like(result, { intact: true, checked: 2, headRevision: 4, checkpoint: { revision: 3 } });
  t.deepEqual(result.compactions.map((c) => c.checkpoint.revision), [1, 2, 3]);
  t.is(other.registry.checkpoint.revision, 3);
  for (const rig of rigs) await rig.registry.close();
});

test('closing the registry waits for audit work already queued: verifications and a compaction in flight finish first', async (t) => {
  const { registry, store } = await three();
  const order: string[] = [];
  const release = store.pause();
  const verifications = [1, 2, 3].map(() => registry.verifyHistory(undefined).then((v) => order.push(`verified ${v.intact}`)));
  const compaction = registry.compact(2).then((result) => order.push(`compacted to ${result.checkpoint.revision}`));
  const closing = registry.close().then(() => order.push('closed'));
  release();
  await Promise.all([...verifications, compaction, closing]);
  t.deepEqual(order, ['verified true', 'verified true', 'verified true', 'compacted to 2', 'closed']);
});

test('a replica that trails the shared store (others wrote since it last followed): intact when its head is on the chain, HEAD_MISMATCH when the chain was cut before it', async (t) => {
  const { rigs } = await openReplicas(2);
  const [writer, trailing] = rigs;
  for (const name of ['a', 'b']) await writer.registry.syncHost(syncOf(name), ORIGIN);
  await trailing.registry.catchUp();
  const own = trailing.registry.headHash;
  // It stops following (a slow or stalled replica), while the writer goes on.
  (trailing.store.log as { readAfter: unknown }).readAfter = () => new Promise(() => undefined);
  for (const name of ['c', 'd']) await writer.registry.syncHost(syncOf(name), ORIGIN);
  t.is(trailing.registry.revision, 2);
  const result = await trailing.registry.verifyHistory(undefined);
  t.like(result, { intact: true, checked: 8, headRevision: 4, headHash: writer.registry.headHash });
  t.is(result.broken, undefined, 'not a tamper alarm: the chain holds its head and goes on past it');

  tamper(trailing.store, (c) => ({ ...c, history: c.history.slice(0, 2) }));
  const cut = await trailing.registry.verifyHistory(undefined);
  t.like(cut, { intact: false, headRevision: 1 });
  t.deepEqual(cut.broken, {
    revision: 1,
    seq: 0,
    problem: 'HEAD_MISMATCH',
    description: `the stored chain (to revision 1, ${cut.headHash.slice(0, 12)}…) does not hold this server's head, revision 2 (${own.slice(0, 12)}…): entries were removed or rewritten behind the servers' backs`,
  });
  await writer.registry.close();
});
