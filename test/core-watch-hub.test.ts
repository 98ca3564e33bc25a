// The change feed in the core (server/core/watch-hub.ts), without a server: a WatchHub over a
// Registry on the in-memory store, its progress timer on a manual clock, and a recording sink
// in place of the gRPC stream. What a watcher would notice: which revisions and events it gets
// (filters, a device moving into or out of the filter, `whole`), catch-up from history page by
// page going live with no revision lost or doubled, progress when quiet, cancel and close, a
// slow sink, and a start revision history no longer holds. The gRPC side (encoding, the byte
// bound) is test/watch.test.ts.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { RevisionChange } from '../server/core/registry.ts';
import { CATCH_UP_PAGE, WatchHub, type Acceptance, type WatchDelivery, type WatchFilter, type WatchHandle, type WatchSink } from '../server/core/watch-hub.ts';
import { GPU, openCore, openReplicas, ORIGIN, syncOf, type CoreRig } from './helpers/core.ts';

const ALL: WatchFilter = { hostId: undefined, vendor: undefined, deviceApi: undefined, type: undefined };
/** Longer than any test runs the clock: no progress unless a test asks for it. */
const QUIET = 3_600_000;

/** A sink that records what the hub hands it, and lets a test answer "wait for me" or "no room". */
class Recorder implements WatchSink {
  readonly deliveries: WatchDelivery[] = [];
  /** Revisions offered and refused (`full`): not delivered. */
  readonly refused: number[] = [];
  readonly progressed: { at: number; revision: number; headHash: string }[] = [];
  readonly failures: unknown[] = [];
  /** What deliver answers when it takes a revision: false = `busy`, the consumer should be waited for. */
  ready = true;
  /** True: deliver takes nothing and answers `full` (no room in the consumer's buffer). */
  full = false;
  /** When set, deliver refuses (`full`) the revisions it returns true for. */
  refuse: ((delivery: WatchDelivery) => boolean) | undefined;
  /** For `refuse`: set by a test once its consumer drained. */
  drainedOnce = false;
  drainCalls = 0;
  /** Called inside deliver, before it answers (a sink that cancels itself). */
  onDeliver: ((delivery: WatchDelivery) => void) | undefined;
  private release: (() => void) | undefined;
  private readonly waiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(private readonly now: () => number = () => 0) {}

  deliver(delivery: WatchDelivery): Acceptance {
    if (this.full || this.refuse?.(delivery)) {
      this.refused.push(delivery.change.revision);
      this.wake();
      return 'full';
    }
    this.deliveries.push(delivery);
    this.onDeliver?.(delivery);
    this.wake();
    return this.ready ? 'ready' : 'busy';
  }

  progress(revision: number, headHash: string): void {
    this.progressed.push({ at: this.now(), revision, headHash });
  }

  drained(): Promise<void> {
    this.drainCalls++;
    const gate = new Promise<void>((resolve) => (this.release = resolve));
    this.wake();
    return gate;
  }

  fail(error: unknown): void {
    this.failures.push(error);
    this.wake();
  }

  /** True while the hub waits for this consumer to drain. */
  get waiting(): boolean {
    return this.release !== undefined;
  }

  /** The consumer read its buffer: the hub may go on. */
  drain(ready = true): void {
    this.ready = ready;
    this.full = false;
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  get revisions(): number[] {
    return this.deliveries.map((delivery) => delivery.change.revision);
  }

  /** Resolves once `done()` holds, checked after every call the hub makes on this sink. */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.done()) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/** An event as a watcher sees it: `kind resource` plus the filter crossing, if any. */
function events(delivery: WatchDelivery): string[] {
  return delivery.events.map(({ entry, kind, leftFilter, enteredFilter }) => {
    const resource = entry.deviceId === '' ? `hosts/${entry.hostId}` : `hosts/${entry.hostId}/devices/${entry.deviceId}`;
    return `${kind} ${resource}${leftFilter ? ' left' : ''}${enteredFilter ? ' entered' : ''}`;
  });
}

/** What identifies a revision's content, whether published live or read back from history. */
function shape(change: RevisionChange) {
  return {
    revision: change.revision,
    time: change.time,
    headHash: change.headHash,
    entries: change.entries.map((e) => `${e.revision}.${e.seq} ${e.change} ${e.hostId}/${e.deviceId}`),
  };
}

function hubOf(rig: CoreRig, t: { teardown(fn: () => unknown): void }): WatchHub {
  const hub = new WatchHub(rig.registry, rig.clock);
  t.teardown(async () => {
    hub.close();
    await rig.registry.close();
  });
  return hub;
}

function watch(hub: WatchHub, sink: Recorder, options: { start?: number; filter?: Partial<WatchFilter>; progressMs?: number } = {}): WatchHandle {
  return hub.open(
    { startRevision: options.start, filter: { ...ALL, ...options.filter }, progressIntervalMs: options.progressMs ?? QUIET },
    sink,
  );
}

const devices = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

test('a watch from now goes live at once and gets each later revision once, whole, every event with its own kind', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('before'), ORIGIN);
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  const handle = watch(hub, sink);
  t.is(handle.createdRevision, 1);
  t.deepEqual(hub.progress, { live: 1, catchingUp: 0, lagRevisions: 0 });
  t.is(hub.size, 1);

  await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN);
  await registry.syncHost(syncOf('a', ['gpu0']), ORIGIN);
  await registry.setDraining('a', true, ORIGIN);
  t.deepEqual(sink.revisions, [2, 3, 4], 'revision 1 was before the watch');
  t.deepEqual(sink.deliveries.map(events), [
    ['CREATED hosts/a', 'CREATED hosts/a/devices/gpu0', 'CREATED hosts/a/devices/gpu1'],
    ['DELETED hosts/a/devices/gpu1'],
    ['UPDATED hosts/a'],
  ]);
  t.true(sink.deliveries.every((d) => d.whole));
  // The delivery is the published change itself (the transport memoizes its encoding on it).
  t.deepEqual(sink.deliveries.map((d) => d.change), rig.changes.slice(1));
  t.true(sink.deliveries.every((d) => d.events.every((e, i) => e.entry === d.change.entries[i])));
  t.deepEqual(sink.failures, []);
  t.is(sink.drainCalls, 0);
});

test('a host filter gets that host\'s revisions only, whole; device filters narrow the events and are not whole', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  const hub = hubOf(rig, t);
  const host = new Recorder();
  const vendor = new Recorder();
  const api = new Recorder();
  const type = new Recorder();
  const both = new Recorder();
  const hostAndVendor = new Recorder();
  watch(hub, host, { filter: { hostId: 'a' } });
  watch(hub, vendor, { filter: { vendor: 'nvidia' } });
  watch(hub, api, { filter: { deviceApi: 'vfio-pci' } });
  watch(hub, type, { filter: { type: 'nvidia-a10-4q' } });
  watch(hub, both, { filter: { vendor: 'nvidia', type: 'nvidia-a10-4q' } });
  watch(hub, hostAndVendor, { filter: { hostId: 'b', vendor: 'intel' } });
  t.deepEqual(hub.progress, { live: 6, catchingUp: 0, lagRevisions: 0 });

  // Four devices, each differing from the GPU in one respect.
  const mixed = [
    { id: 'd0' },
    { id: 'd1', descriptor: { ...GPU, device_api: 'mdev' } },
    { id: 'd2', descriptor: { ...GPU, type: 'nvidia-a10-8q' } },
    { id: 'd3', descriptor: { ...GPU, vendor: 'intel' } },
  ];
  await registry.syncHost(syncOf('a', mixed), ORIGIN); // 1
  await registry.syncHost(syncOf('b', mixed), ORIGIN); // 2

  t.deepEqual(host.revisions, [1]);
  t.deepEqual(events(host.deliveries[0]), ['CREATED hosts/a', ...['d0', 'd1', 'd2', 'd3'].map((d) => `CREATED hosts/a/devices/${d}`)]);
  t.true(host.deliveries[0].whole, 'a host filter passes its host\'s revisions whole');

  const seen = (sink: Recorder) => sink.deliveries.map((d) => [d.change.revision, ...events(d)]);
  t.deepEqual(seen(vendor), [
    [1, 'CREATED hosts/a', 'CREATED hosts/a/devices/d0', 'CREATED hosts/a/devices/d1', 'CREATED hosts/a/devices/d2'],
    [2, 'CREATED hosts/b', 'CREATED hosts/b/devices/d0', 'CREATED hosts/b/devices/d1', 'CREATED hosts/b/devices/d2'],
  ]);
  t.deepEqual(seen(api), [
    [1, 'CREATED hosts/a', 'CREATED hosts/a/devices/d0', 'CREATED hosts/a/devices/d2', 'CREATED hosts/a/devices/d3'],
    [2, 'CREATED hosts/b', 'CREATED hosts/b/devices/d0', 'CREATED hosts/b/devices/d2', 'CREATED hosts/b/devices/d3'],
  ]);
  t.deepEqual(seen(type), [
    [1, 'CREATED hosts/a', 'CREATED hosts/a/devices/d0', 'CREATED hosts/a/devices/d1', 'CREATED hosts/a/devices/d3'],
    [2, 'CREATED hosts/b', 'CREATED hosts/b/devices/d0', 'CREATED hosts/b/devices/d1', 'CREATED hosts/b/devices/d3'],
  ]);
  t.deepEqual(seen(both), [
    [1, 'CREATED hosts/a', 'CREATED hosts/a/devices/d0', 'CREATED hosts/a/devices/d1'],
    [2, 'CREATED hosts/b', 'CREATED hosts/b/devices/d0', 'CREATED hosts/b/devices/d1'],
  ]);
  t.deepEqual(seen(hostAndVendor), [[2, 'CREATED hosts/b', 'CREATED hosts/b/devices/d3']]);
  for (const sink of [vendor, api, type, both, hostAndVendor]) {
    t.true(sink.deliveries.every((d) => !d.whole), 'a device filter is never whole');
  }

  // A revision with nothing in a watcher's filter is not delivered to it at all.
  await registry.syncHost(syncOf('a', [...mixed, { id: 'd4', descriptor: { ...GPU, vendor: 'amd' } }]), ORIGIN); // 3
  t.deepEqual(vendor.revisions, [1, 2]);
  t.deepEqual(type.revisions, [1, 2, 3]);
  t.deepEqual(events(type.deliveries[2]), ['CREATED hosts/a/devices/d4']);
  t.deepEqual(host.revisions, [1, 3]);
});

test('a device that changes across the filter arrives as a creation or a removal, marked entered or left', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  const hub = hubOf(rig, t);
  const nvidia = new Recorder();
  const intel = new Recorder();
  const everything = new Recorder();
  watch(hub, nvidia, { filter: { vendor: 'nvidia' } });
  watch(hub, intel, { filter: { vendor: 'intel' } });
  watch(hub, everything);
  const INTEL = { ...GPU, vendor: 'intel' };

  await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN); // 1
  await registry.syncHost(syncOf('a', ['gpu0', { id: 'gpu1', descriptor: INTEL }]), ORIGIN); // 2: gpu1 leaves nvidia, enters intel
  await registry.syncHost(syncOf('a', ['gpu0', { id: 'gpu1', descriptor: { ...INTEL, software_version: '2.0.0' } }]), ORIGIN); // 3: stays intel
  await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN); // 4: back to nvidia
  await registry.syncHost(syncOf('a', ['gpu1']), ORIGIN); // 5: gpu0 removed
  await registry.deleteHost('a', undefined, ORIGIN); // 6

  const seen = (sink: Recorder) => sink.deliveries.map((d) => [d.change.revision, ...events(d)]);
  t.deepEqual(seen(everything), [
    [1, 'CREATED hosts/a', 'CREATED hosts/a/devices/gpu0', 'CREATED hosts/a/devices/gpu1'],
    [2, 'UPDATED hosts/a/devices/gpu1'],
    [3, 'UPDATED hosts/a/devices/gpu1'],
    [4, 'UPDATED hosts/a/devices/gpu1'],
    [5, 'DELETED hosts/a/devices/gpu0'],
    [6, 'DELETED hosts/a/devices/gpu1', 'DELETED hosts/a'],
  ]);
  t.deepEqual(seen(nvidia), [
    [1, 'CREATED hosts/a', 'CREATED hosts/a/devices/gpu0', 'CREATED hosts/a/devices/gpu1'],
    [2, 'DELETED hosts/a/devices/gpu1 left'],
    [4, 'CREATED hosts/a/devices/gpu1 entered'],
    [5, 'DELETED hosts/a/devices/gpu0'],
    [6, 'DELETED hosts/a/devices/gpu1', 'DELETED hosts/a'],
  ]);
  t.deepEqual(seen(intel), [
    [1, 'CREATED hosts/a'],
    [2, 'CREATED hosts/a/devices/gpu1 entered'],
    [3, 'UPDATED hosts/a/devices/gpu1'],
    [4, 'DELETED hosts/a/devices/gpu1 left'],
    [6, 'DELETED hosts/a'],
  ]);
  // The entry itself is the registry's: before and after as they were, whatever the kind shown.
  const left = nvidia.deliveries[1].events[0];
  t.is(left.entry.change, 'UPDATED');
  t.is(left.entry.before?.kind, 'device');
  t.is(left.entry.after?.kind, 'device');
});

test('a watch from a past revision catches up page by page, a revision larger than a page whole, then goes live: each revision once, in order', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  // A page is CATCH_UP_PAGE (P) entries. Revision 1 (3/4 P + 1 entries) and part of revision 2
  // (P/2 + 1) fill the first page: revision 2 is read again with the next. Revision 3 (5/4 P + 1)
  // is larger than a page; revision 7 is exactly a page.
  const P = CATCH_UP_PAGE;
  const [r1, r2, r3] = [Math.floor((3 * P) / 4), Math.floor(P / 2), Math.floor((5 * P) / 4)];
  await registry.syncHost(syncOf('a', devices('vf', r1)), ORIGIN); // 1
  await registry.syncHost(syncOf('b', devices('vf', r2)), ORIGIN); // 2
  await registry.syncHost(syncOf('c', devices('vf', r3)), ORIGIN); // 3
  for (const name of ['d', 'e', 'f']) await registry.syncHost(syncOf(name), ORIGIN); // 4-6
  await registry.syncHost(syncOf('g', devices('vf', P - 1)), ORIGIN); // 7: exactly a page
  await registry.syncHost(syncOf('h'), ORIGIN); // 8
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  const handle = watch(hub, sink, { start: 1 });
  t.is(handle.createdRevision, 8);
  t.deepEqual(hub.progress, { live: 0, catchingUp: 1, lagRevisions: 8 });

  await sink.until(() => sink.revisions.includes(8));
  t.deepEqual(hub.progress, { live: 1, catchingUp: 0, lagRevisions: 0 }, 'live in the tick the last page was delivered');
  await registry.syncHost(syncOf('i'), ORIGIN); // 9, live
  t.deepEqual(sink.revisions, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.deepEqual(
    sink.deliveries.map((d) => d.change.entries.length),
    [r1 + 1, r2 + 1, r3 + 1, 2, 2, 2, P, 2, 2],
  );
  // What catch-up read back from history is what the registry published live.
  t.deepEqual(sink.deliveries.map((d) => shape(d.change)), rig.changes.map(shape));
  t.true(sink.deliveries.every((d) => d.whole && d.events.length === d.change.entries.length));
  t.is(sink.drainCalls, 0, 'a ready consumer is never waited for');
});

test('a host-filtered watch catches up from that host\'s history, then takes only its live revisions', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a'), ORIGIN); // 1
  await registry.syncHost(syncOf('b'), ORIGIN); // 2
  await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN); // 3
  await registry.syncHost(syncOf('b', ['gpu0', 'gpu1']), ORIGIN); // 4
  await registry.syncHost(syncOf('c'), ORIGIN); // 5
  const hub = hubOf(rig, t);
  const a = new Recorder();
  const b = new Recorder();
  watch(hub, a, { start: 2, filter: { hostId: 'a' } });
  watch(hub, b, { start: 1, filter: { hostId: 'b' } });
  await a.until(() => a.revisions.includes(3));
  await b.until(() => b.revisions.includes(4));
  // Both read every page there is and went live although their host's last revision is not the head.
  await Promise.resolve();
  t.deepEqual(hub.progress, { live: 2, catchingUp: 0, lagRevisions: 0 });
  await registry.syncHost(syncOf('a', ['gpu1']), ORIGIN); // 6
  await registry.syncHost(syncOf('b', ['gpu1']), ORIGIN); // 7
  await registry.syncHost(syncOf('c', ['gpu1']), ORIGIN); // 8
  t.deepEqual(a.revisions, [3, 6]);
  t.deepEqual(b.revisions, [2, 4, 7]);
  t.deepEqual(events(a.deliveries[0]), ['CREATED hosts/a/devices/gpu1']);
  t.deepEqual(events(b.deliveries[0]), ['CREATED hosts/b', 'CREATED hosts/b/devices/gpu0']);
  t.true([...a.deliveries, ...b.deliveries].every((d) => d.whole));
});

test('a consumer that is not ready is waited for; revisions written meanwhile arrive after, none lost or doubled', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a', devices('vf', 1500)), ORIGIN); // 1
  await registry.syncHost(syncOf('b', devices('vf', 1000)), ORIGIN); // 2
  await registry.syncHost(syncOf('c'), ORIGIN); // 3
  const hub = hubOf(rig, t);
  const slow = new Recorder();
  const behind = new Recorder();
  slow.ready = false;
  behind.ready = false;
  watch(hub, slow, { start: 1 });
  watch(hub, behind, { start: 3 });
  await slow.until(() => slow.waiting);
  await behind.until(() => behind.waiting);
  t.deepEqual(slow.revisions, [1], 'nothing more until the consumer drains');
  t.deepEqual(behind.revisions, [3]);
  t.is(slow.drainCalls, 1);
  for (const name of ['d', 'e']) await registry.syncHost(syncOf(name), ORIGIN); // 4, 5
  // The one furthest behind has revisions 2 to 5 to read.
  t.deepEqual(hub.progress, { live: 0, catchingUp: 2, lagRevisions: 4 });
  t.deepEqual(slow.revisions, [1], 'a watcher catching up gets nothing live');

  slow.drain(false); // ready again after each revision, then full again
  await slow.until(() => slow.waiting);
  t.deepEqual(slow.revisions, [1, 2]);
  t.deepEqual(hub.progress, { live: 0, catchingUp: 2, lagRevisions: 3 });
  await registry.syncHost(syncOf('f'), ORIGIN); // 6
  slow.drain();
  behind.drain();
  await slow.until(() => slow.revisions.includes(6));
  await behind.until(() => behind.revisions.includes(6));
  await registry.syncHost(syncOf('g'), ORIGIN); // 7, live
  t.deepEqual(slow.revisions, [1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(behind.revisions, [3, 4, 5, 6, 7]);
  t.deepEqual(slow.deliveries.map((d) => shape(d.change)), rig.changes.map(shape));
  t.deepEqual(hub.progress, { live: 2, catchingUp: 0, lagRevisions: 0 });
  t.deepEqual([...slow.failures, ...behind.failures], []);
});

test('a filtered watch catching up skips what is not in its filter without waiting for the consumer', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a', [{ id: 'x', descriptor: { ...GPU, vendor: 'intel' } }]), ORIGIN); // 1
  await registry.syncHost(syncOf('a', [{ id: 'x', descriptor: { ...GPU, vendor: 'intel', software_version: '2.0.0' } }]), ORIGIN); // 2
  await registry.syncHost(syncOf('a', [{ id: 'x', descriptor: GPU }]), ORIGIN); // 3: x enters nvidia
  await registry.syncHost(syncOf('a', [{ id: 'x', descriptor: { ...GPU, vendor: 'amd' } }]), ORIGIN); // 4: x leaves
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  sink.ready = false;
  watch(hub, sink, { start: 2, filter: { vendor: 'nvidia' } });
  await sink.until(() => sink.waiting);
  t.deepEqual(sink.deliveries.map((d) => [d.change.revision, ...events(d)]), [[3, 'CREATED hosts/a/devices/x entered']]);
  t.is(sink.drainCalls, 1, 'revision 2 had nothing for this watcher: no wait');
  sink.drain(false);
  await sink.until(() => sink.drainCalls === 2);
  t.deepEqual(sink.deliveries.map((d) => [d.change.revision, ...events(d)]), [
    [3, 'CREATED hosts/a/devices/x entered'],
    [4, 'DELETED hosts/a/devices/x left'],
  ]);
  t.false(sink.deliveries.some((d) => d.whole));
});

test('a start revision above the head waits for it: nothing before it is delivered', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a'), ORIGIN); // 1
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  const handle = watch(hub, sink, { start: 3 });
  t.is(handle.createdRevision, 1);
  t.deepEqual(hub.progress, { live: 1, catchingUp: 0, lagRevisions: 0 });
  await registry.syncHost(syncOf('b'), ORIGIN); // 2
  t.deepEqual(sink.revisions, []);
  await registry.syncHost(syncOf('c'), ORIGIN); // 3
  await registry.syncHost(syncOf('d'), ORIGIN); // 4
  t.deepEqual(sink.revisions, [3, 4]);
  t.deepEqual(sink.failures, []);
});

test('a start revision older than history holds is refused at once with REVISION_COMPACTED naming the oldest; the oldest itself is served', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  for (const name of ['a', 'b', 'c', 'd']) await registry.syncHost(syncOf(name), ORIGIN);
  await registry.compact(2);
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  const error = t.throws(() => watch(hub, sink, { start: 2 }), { instanceOf: DomainError });
  t.is(error?.reason, 'REVISION_COMPACTED');
  t.is(error?.message, 'revision 2 has been compacted: the oldest revision available is 3');
  t.deepEqual(error?.metadata, { revision: '2', oldest_revision: '3' });
  t.is(hub.size, 0, 'a refused watch is not registered');
  t.deepEqual(sink.deliveries, []);

  watch(hub, sink, { start: 3 });
  await sink.until(() => sink.revisions.includes(4));
  t.deepEqual(sink.revisions, [3, 4]);
  t.deepEqual(sink.failures, []);
});

test('compaction that overtakes a catch-up between pages ends the watch with REVISION_COMPACTED', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a', devices('vf', 1500)), ORIGIN); // 1
  await registry.syncHost(syncOf('b', devices('vf', 1000)), ORIGIN); // 2: on the next page
  await registry.syncHost(syncOf('c'), ORIGIN); // 3
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  const other = new Recorder();
  sink.ready = false;
  watch(hub, sink, { start: 1 });
  watch(hub, other);
  await sink.until(() => sink.waiting);
  t.deepEqual(sink.revisions, [1]);
  await registry.compact(2);
  sink.drain();
  await sink.until(() => sink.failures.length > 0);
  const [error] = sink.failures as DomainError[];
  t.true(error instanceof DomainError);
  t.is(error.reason, 'REVISION_COMPACTED');
  t.is(error.message, 'revision 2 has been compacted: the oldest revision available is 3');
  t.deepEqual(sink.revisions, [1], 'nothing after the gap');
  t.is(hub.size, 1, 'the failed watcher is removed, the other stays');
  await registry.syncHost(syncOf('d'), ORIGIN);
  t.deepEqual(sink.revisions, [1]);
  t.deepEqual(other.revisions, [4]);
  t.is(sink.failures.length, 1);
});

test('compaction by another server sharing the store, seen only after a page is read, ends the watch with REVISION_COMPACTED', async (t) => {
  const { rigs } = await openReplicas(2);
  const [a, b] = rigs;
  for (const name of ['h1', 'h2', 'h3']) await a.registry.syncHost(syncOf(name), ORIGIN);
  const hub = hubOf(a, t);
  t.teardown(() => b.registry.close());
  await b.registry.catchUp();
  await b.registry.compact(2);
  // This server has not heard of the compaction yet: the watch is accepted, and its first
  // page, read from the compacted store, lacks revisions 1 and 2.
  t.is(a.registry.oldestRevision, 1);
  const sink = new Recorder();
  watch(hub, sink, { start: 1 });
  await sink.until(() => sink.failures.length > 0);
  const error = sink.failures[0] as DomainError;
  t.is(error.reason, 'REVISION_COMPACTED');
  t.deepEqual(error.metadata, { revision: '1', oldest_revision: '3' });
  t.deepEqual(sink.revisions, [], 'no revision after the gap is delivered as if none were missing');
  t.is(hub.size, 0);
});

test('progress: a live watch quiet for its interval gets the revision and head hash on the clock; a delivery restarts the interval', async (t) => {
  const rig = await openCore();
  const { registry, clock } = rig;
  const start = clock.now();
  const emptyHead = registry.headHash;
  const hub = hubOf(rig, t);
  const since = () => clock.now() - start;
  const sink = new Recorder(since);
  const slower = new Recorder(since);
  const elsewhere = new Recorder(since);
  watch(hub, sink, { progressMs: 200 });
  watch(hub, slower, { progressMs: 300 });
  watch(hub, elsewhere, { progressMs: 200, filter: { hostId: 'b' } });
  clock.advance(150);
  t.deepEqual(sink.progressed, []);
  clock.advance(50);
  t.deepEqual(sink.progressed, [{ at: 200, revision: 0, headHash: emptyHead }], 'due at exactly its interval');
  t.deepEqual(slower.progressed, []);
  clock.advance(50); // 250
  await registry.syncHost(syncOf('a'), ORIGIN); // delivered at 250 to sink and slower, not to elsewhere
  const head = registry.headHash;
  t.not(head, emptyHead);
  clock.advance(150); // 400: elsewhere is due again (its last progress at 200), sink is not (delivery at 250)
  t.deepEqual(sink.progressed.map((p) => p.at), [200]);
  t.deepEqual(elsewhere.progressed, [
    { at: 200, revision: 0, headHash: emptyHead },
    { at: 400, revision: 1, headHash: head },
  ]);
  clock.advance(50); // 450
  t.deepEqual(sink.progressed, [
    { at: 200, revision: 0, headHash: emptyHead },
    { at: 450, revision: 1, headHash: head },
  ]);
  t.deepEqual(slower.progressed, []);
  clock.advance(100); // 550 = 250 + 300
  t.deepEqual(slower.progressed, [{ at: 550, revision: 1, headHash: head }]);
  clock.advance(400); // 950
  t.deepEqual(sink.progressed.map((p) => p.at), [200, 450, 650, 850]);
  t.deepEqual(slower.progressed.map((p) => p.at), [550, 850]);
  t.deepEqual(elsewhere.progressed.map((p) => p.at), [200, 400, 600, 800]);
  t.deepEqual(elsewhere.revisions, []);
});

test('progress keeps its interval when the wall clock is stepped back or forward (NTP, a resumed VM): it runs on elapsed time', async (t) => {
  const rig = await openCore();
  const { clock } = rig;
  const start = clock.elapsed();
  const hub = hubOf(rig, t);
  const sink = new Recorder(() => clock.elapsed() - start);
  watch(hub, sink, { progressMs: 1000 });
  clock.advance(3000);
  t.deepEqual(sink.progressed.map((p) => p.at), [1000, 2000, 3000]);
  clock.stepWallClock(-60_000);
  clock.advance(3000);
  t.deepEqual(sink.progressed.map((p) => p.at), [1000, 2000, 3000, 4000, 5000, 6000], 'no silence while the wall clock catches up');
  clock.stepWallClock(3_600_000);
  clock.advance(2000);
  t.deepEqual(sink.progressed.map((p) => p.at).slice(6), [7000, 8000], 'and no burst after a step forward');
});

test('a sink that throws on a live revision ends its own watch with that error; the others get the revision and the write is answered', async (t) => {
  const rig = await openCore();
  const hub = hubOf(rig, t);
  const broken = new Recorder();
  const before = new Recorder();
  const after = new Recorder();
  watch(hub, before);
  watch(hub, broken);
  watch(hub, after);
  const failure = new Error('cannot encode');
  broken.onDeliver = () => {
    throw failure;
  };
  const written = await rig.registry.syncHost(syncOf('a'), ORIGIN);
  t.is(written.revision, 1);
  t.deepEqual(broken.failures, [failure]);
  for (const sink of [before, after]) t.deepEqual(sink.deliveries.map((d) => d.change.revision), [1]);
  await rig.registry.syncHost(syncOf('b'), ORIGIN);
  t.is(broken.deliveries.length, 1, 'the broken watch ended: nothing more reaches it');
  t.deepEqual(after.deliveries.map((d) => d.change.revision), [1, 2]);
});

test('progress is not sent to a watch still catching up', async (t) => {
  const rig = await openCore();
  const { registry, clock } = rig;
  await registry.syncHost(syncOf('a'), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  const hub = hubOf(rig, t);
  const sink = new Recorder(() => clock.now());
  sink.ready = false;
  watch(hub, sink, { start: 1, progressMs: 100 });
  await sink.until(() => sink.waiting);
  clock.advance(1000);
  t.deepEqual(sink.progressed, []);
  sink.drain();
  await sink.until(() => sink.revisions.includes(2));
  t.deepEqual(hub.progress, { live: 1, catchingUp: 0, lagRevisions: 0 });
  const delivered = clock.now();
  clock.advance(100);
  t.deepEqual(sink.progressed, [{ at: delivered + 100, revision: 2, headHash: registry.headHash }]);
});

test('cancel: the watcher gets nothing more and is forgotten; cancelling twice is harmless', async (t) => {
  const rig = await openCore();
  const { registry, clock } = rig;
  const hub = hubOf(rig, t);
  const all = new Recorder(() => clock.now());
  const host = new Recorder(() => clock.now());
  const twin = new Recorder(() => clock.now());
  const keep = new Recorder(() => clock.now());
  const handles = [watch(hub, all, { progressMs: 100 }), watch(hub, host, { filter: { hostId: 'a' }, progressMs: 100 })];
  watch(hub, twin, { filter: { hostId: 'a' } });
  watch(hub, keep);
  await registry.syncHost(syncOf('a'), ORIGIN); // 1
  for (const handle of handles) handle.cancel();
  t.is(hub.size, 2);
  handles[0].cancel();
  t.is(hub.size, 2);
  await registry.syncHost(syncOf('a', ['gpu1']), ORIGIN); // 2
  clock.advance(1000);
  t.deepEqual(all.revisions, [1]);
  t.deepEqual(host.revisions, [1]);
  t.deepEqual([all.progressed, host.progressed], [[], []]);
  t.deepEqual(twin.revisions, [1, 2], 'another watcher of the same host still gets it');
  t.deepEqual(keep.revisions, [1, 2]);
  t.deepEqual(hub.progress, { live: 2, catchingUp: 0, lagRevisions: 0 });
  t.deepEqual([...all.failures, ...host.failures], [], 'a cancelled watch is not failed');
});

test('a watch cancelled while the hub waits for its consumer reads no further', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  for (const name of ['a', 'b', 'c']) await registry.syncHost(syncOf(name), ORIGIN);
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  sink.ready = false;
  const handle = watch(hub, sink, { start: 1 });
  await sink.until(() => sink.waiting);
  handle.cancel();
  t.is(hub.size, 0);
  t.deepEqual(hub.progress, { live: 0, catchingUp: 0, lagRevisions: 0 });
  sink.drain();
  await registry.syncHost(syncOf('d'), ORIGIN);
  t.deepEqual(sink.revisions, [1]);
  t.deepEqual(sink.failures, []);
  t.is(sink.drainCalls, 1);
});

test('a sink that ends its own watch from inside deliver: the others go on', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  const hub = hubOf(rig, t);
  const slow = new Recorder();
  const fine = new Recorder();
  // As the gRPC sink does when its stream broke: it ends the stream, which cancels the watch.
  let buffered = 0;
  const handle: WatchHandle = watch(hub, slow);
  slow.onDeliver = () => {
    buffered++;
    if (buffered > 2) {
      slow.ready = false;
      handle.cancel();
    }
  };
  watch(hub, fine);
  for (const name of ['a', 'b', 'c', 'd', 'e']) await registry.syncHost(syncOf(name), ORIGIN);
  t.deepEqual(slow.revisions, [1, 2, 3]);
  t.deepEqual(fine.revisions, [1, 2, 3, 4, 5]);
  t.is(hub.size, 1);
  t.is(slow.drainCalls, 0, 'a live watch is never waited for while its sink takes what it gets');
  t.deepEqual(slow.failures, [], 'the hub does not fail it: the sink ended the watch itself');
});

test('a live watch whose sink is full falls behind: it waits for its consumer, catches up from history, then goes live again, each revision once', async (t) => {
  const rig = await openCore();
  const { registry, clock } = rig;
  const hub = hubOf(rig, t);
  const slow = new Recorder(() => clock.now());
  const fine = new Recorder();
  watch(hub, slow, { progressMs: 100 });
  watch(hub, fine);
  await registry.syncHost(syncOf('a'), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  slow.full = true; // its consumer stopped reading: no room for the next revision
  for (const name of ['c', 'd', 'e']) await registry.syncHost(syncOf(name), ORIGIN);
  t.deepEqual(slow.refused, [3], 'offered once, then no longer live');
  t.true(slow.waiting, 'the hub waits for the consumer before reading history');
  t.deepEqual(hub.progress, { live: 1, catchingUp: 1, lagRevisions: 3 });
  t.is(hub.fellBehind, 1);
  clock.advance(1000);
  t.deepEqual(slow.progressed, [], 'no progress while behind: it would claim revisions it does not have');
  t.deepEqual(slow.failures, [], 'not cut off');

  slow.drain(); // the consumer read its buffer
  await slow.until(() => slow.revisions.length === 5);
  t.deepEqual(slow.revisions, [1, 2, 3, 4, 5]);
  t.deepEqual(hub.progress, { live: 2, catchingUp: 0, lagRevisions: 0 });
  // What it caught up is what the others got live, and it is live again.
  t.deepEqual(slow.deliveries.map((d) => shape(d.change)), fine.deliveries.map((d) => shape(d.change)));
  await registry.syncHost(syncOf('f'), ORIGIN);
  t.deepEqual(slow.revisions, [1, 2, 3, 4, 5, 6]);
  t.deepEqual(fine.revisions, [1, 2, 3, 4, 5, 6]);
  t.is(hub.fellBehind, 1);
});

test('a live watch whose sink is full in the middle of a commit batch gets the rest of the batch from history, each revision once, in order', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  const fine = new Recorder();
  watch(hub, sink);
  watch(hub, fine);
  // Four syncs queued in one tick commit as one batch, published revision by revision.
  sink.refuse = (delivery) => delivery.change.revision === 2 && !sink.drainedOnce;
  await Promise.all(['a', 'b', 'c', 'd'].map((name) => registry.syncHost(syncOf(name), ORIGIN)));
  t.deepEqual(fine.revisions, [1, 2, 3, 4]);
  t.deepEqual(sink.revisions, [1], 'revision 1 taken, 2 refused, 3 and 4 not offered');
  t.deepEqual(sink.refused, [2]);
  t.true(sink.waiting);
  sink.drainedOnce = true;
  sink.drain();
  await sink.until(() => sink.revisions.length === 4);
  t.deepEqual(sink.revisions, [1, 2, 3, 4]);
  await registry.syncHost(syncOf('e'), ORIGIN);
  t.deepEqual(sink.revisions, [1, 2, 3, 4, 5], 'live again');
  t.is(hub.fellBehind, 1);
});

test('a revision larger than the room a catching-up consumer has left is delivered once it drained, not skipped', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  for (const name of ['a', 'b', 'c']) await registry.syncHost(syncOf(name), ORIGIN);
  const hub = hubOf(rig, t);
  const sink = new Recorder();
  // Revision 2 does not fit behind revision 1; with the buffer drained it does.
  sink.refuse = (delivery) => delivery.change.revision === 2 && sink.deliveries.length === 1 && !sink.drainedOnce;
  watch(hub, sink, { start: 1 });
  await sink.until(() => sink.waiting);
  t.deepEqual(sink.revisions, [1]);
  t.deepEqual(sink.refused, [2]);
  sink.drainedOnce = true;
  sink.drain();
  await sink.until(() => sink.revisions.length === 3);
  t.deepEqual(sink.revisions, [1, 2, 3]);
  t.deepEqual(sink.failures, []);
});

test('close stops the progress timer and the feed, and fails every watch with UNAVAILABLE', async (t) => {
  const rig = await openCore();
  const { registry, clock } = rig;
  await registry.syncHost(syncOf('a'), ORIGIN);
  const tasks = clock.pendingTasks;
  const hub = new WatchHub(registry, clock);
  t.teardown(() => registry.close());
  t.is(clock.pendingTasks, tasks + 1, 'one timer for every watcher');
  const live = new Recorder(() => clock.now());
  const host = new Recorder(() => clock.now());
  const catching = new Recorder(() => clock.now());
  catching.ready = false;
  watch(hub, live, { progressMs: 100 });
  watch(hub, host, { filter: { hostId: 'a' } });
  watch(hub, catching, { start: 1 });
  await catching.until(() => catching.waiting);
  hub.close();
  t.is(clock.pendingTasks, tasks);
  t.is(hub.size, 0);
  for (const sink of [live, host, catching]) {
    t.is(sink.failures.length, 1);
    const error = sink.failures[0] as DomainError;
    t.true(error instanceof DomainError);
    t.is(error.reason, 'UNAVAILABLE');
    t.is(error.message, 'the server is shutting down');
  }
  catching.drain();
  await registry.syncHost(syncOf('a', ['gpu1']), ORIGIN);
  clock.advance(1000);
  t.deepEqual([live.revisions, host.revisions, catching.revisions], [[], [], [1]]);
  t.deepEqual(live.progressed, []);
  t.is(catching.failures.length, 1, 'failed once');
});
