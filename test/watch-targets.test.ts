// CompatibilityService.WatchTargets against a real server, as a scheduler keeps a ranked set of
// targets from it: the initial set is FindTargets' answer and its sort keys give FindTargets'
// order; then only diffs, each at its revision (new, changed, drained, lapsed, deleted targets;
// nothing for changes that do not concern the query); applying them keeps the set FindTargets
// would give now, through random changes; a followed source re-judges everything, and its
// deletion ends the stream; a cancelled stream leaves nothing open.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { Capacity, DescriptorInput, DeviceSpec, SyncHostRequest } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { gvt, historyOf } from './helpers/integration.ts';
import { eventually, rawClients, unaryCall, type RawClients } from './helpers/watch.ts';
import { bySortKey, findTargetsRaw, keepAlive, TargetsWatch, type RawFoundTarget, type TargetChange } from './helpers/raw.ts';
import { frame, rawSession } from './helpers/raw-http2.ts';
import { protoRoot } from '../proto/load.ts';
import { scrape } from './helpers/metrics.ts';

/** Resolves once the server counted `count` WatchTargets streams cut off as too slow. */
async function cutOffsReach(metricsAddress: string, count: number, what: string): Promise<void> {
  await eventually(
    async () =>
      ((await scrape(metricsAddress)).value('devcompat_stream_cutoffs_total', {
        grpc_service: 'devcompat.v1.CompatibilityService',
        grpc_method: 'WatchTargets',
      }) ?? 0) >= count,
    // Bounded, not timed: on a loaded machine the writes that fill the buffer take a while.
    60_000,
    what,
  );
}

/** Hour-long leases unless a test is about leases: a lapse in a slow run would add revisions. */
async function start(t: ExecutionContext, options: Parameters<typeof startTestServer>[1] = {}) {
  const running = await startTestServer(t, { leaseTtlMs: 3_600_000, ...options });
  const raw = rawClients(running.server.address);
  t.teardown(() => raw.close());
  return { ...running, raw };
}

function watchTargets(t: ExecutionContext, raw: RawClients, request: object): TargetsWatch {
  const watch = new TargetsWatch(raw.compatibility, request);
  t.teardown(() => watch.cancel());
  return watch;
}

const SRC = 'hosts/src/devices/gpu0';

/** A GVT-g target that is compatible with warnings: its low_gm_mb is below the source's, warn-only. */
const warnGvt = (version: string): DescriptorInput =>
  gvt(version, {
    attributes: { pci_ids: { set_value: { values: ['591b'] } }, low_gm_mb: { int_value: 64 } },
    rules: { pci_ids: { op: 'COMPARE_OP_SUPERSET' }, low_gm_mb: { op: 'COMPARE_OP_GE', warn_only: true } },
  });

/** Another GVT-g type that accepts the source's type. */
const compatibleTypeGvt = (version: string): DescriptorInput =>
  gvt(version, { type: 'i915-GVTg_V5_8', compatible_types: ['i915-GVTg_V5_4'] });

/** A device nothing here is compared with. */
const nvidia = (version: string): DescriptorInput => ({ vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525', software_version: version });

const spec = (device_id: string, descriptor: DescriptorInput, capacity?: Capacity, labels?: Record<string, string>): DeviceSpec => ({
  device_id,
  descriptor,
  ...(capacity && { capacity }),
  ...(labels && { labels }),
});

const host = (name: string, devices: DeviceSpec[], labels: Record<string, string> = {}): SyncHostRequest => ({ name, labels, devices });

const setDraining = (raw: RawClients, name: string, draining: boolean) =>
  unaryCall<{ revision: string }>(raw.registry, 'SetHostDraining', { name: `hosts/${name}`, draining });

/** What a scheduler compares of one target, without the revision its verdict was last sent at. */
function targetView(target: TargetChange | RawFoundTarget) {
  const { revision: _revision, ...result } = target.result ?? {};
  return { name: target.name, result, capacity: target.capacity, exact: target.exact, host_state: target.host_state };
}

/**
 * A change in short: kind, name and host state; a removal's host state only when it is the
 * cause (DRAINING, UNREACHABLE), as the API promises no more.
 */
function short(change: TargetChange): string {
  const kind = change.kind.replace('TARGET_CHANGE_KIND_', '');
  const state = change.host_state.replace('HOST_STATE_', '');
  if (kind === 'REMOVED' && state !== 'DRAINING' && state !== 'UNREACHABLE') return `${kind} ${change.name}`;
  return `${kind} ${change.name} ${state}`;
}

/**
 * The watch's applied set must be FindTargets' answer now (same filters, a limit above the
 * fleet): the same targets in the same order, with the same verdicts, capacities and states.
 */
async function assertMatchesFind(t: ExecutionContext, raw: RawClients, watch: TargetsWatch, request: object, label: string, revision?: string) {
  const found = await findTargetsRaw(raw.compatibility, { ...request, limit: 10_000 });
  if (revision !== undefined) t.is(found.summary.revision, revision, `${label}: FindTargets at the revision the watch reached`);
  const { anomalies } = watch.applied();
  t.deepEqual(anomalies, [], `${label}: every diff fits the set it applies to`);
  const ranked = watch.ranked();
  t.deepEqual(
    ranked.map((change) => change.name),
    found.targets.map((target) => target.name),
    `${label}: the applied set in sort-key order is FindTargets' rank order`,
  );
  t.deepEqual(ranked.map(targetView), found.targets.map(targetView), `${label}: verdicts, capacities, exactness, host states`);
}

test('the initial set is FindTargets\' compatible targets, and their sort keys order them as FindTargets ranks them', async (t) => {
  const { client, raw } = await start(t);
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0')), spec('gpu1', gvt('1.2.0'))], { zone: 'a' }));
  const free = (available: number): Capacity => ({ total: 4, available });
  await client.syncHost(
    host('exact', [spec('free0', gvt('1.2.0'), free(0)), spec('free3', gvt('1.2.0'), free(3)), spec('unknown', gvt('1.2.0'))], { zone: 'a' }),
  );
  await client.syncHost(host('exact2', [spec('free1', gvt('1.2.0'), free(1)), spec('free3', gvt('1.2.0'), free(3))], { zone: 'b' }));
  await client.syncHost(host('minor', [spec('gpu0', gvt('1.3.0'), free(2)), spec('gpu1', gvt('1.4.0'))], { zone: 'a' }));
  await client.syncHost(host('patch', [spec('gpu0', gvt('1.2.7'))], { zone: 'a' }));
  await client.syncHost(host('warn', [spec('gpu0', warnGvt('1.2.0'), { total: 9, available: 9 })], { zone: 'a' }));
  await client.syncHost(host('ctype', [spec('gpu0', compatibleTypeGvt('1.2.0'))], { zone: 'b' }));
  await client.syncHost(
    host('refuse', [spec('old', gvt('1.1.0')), spec('major', gvt('2.0.0')), spec('other', nvidia('1.0.0'))], { zone: 'a' }),
  );
  await client.syncHost(host('drained', [spec('gpu0', gvt('1.2.0'), { total: 8, available: 8 })], { zone: 'a' }));
  // Enough targets for the initial set to span several messages.
  const bulk = Array.from({ length: 620 }, (_, i) =>
    spec(`vf${String(i).padStart(3, '0')}`, gvt(i % 3 === 0 ? '1.2.0' : '1.3.0'), i % 5 === 0 ? undefined : { total: 8, available: i % 7 }),
  );
  await client.syncHost(host('bulk', bulk, { zone: 'a' }));
  const current = (await setDraining(raw, 'drained', true)).revision;

  const requests: [string, object][] = [
    ['a registered source', { source: { name: SRC } }],
    ['an inline source', { source: { descriptor: gvt('1.2.0') } }],
    [
      'filters',
      {
        source: { name: SRC },
        include_draining_hosts: true,
        include_source_host: true,
        require_available: true,
        host_labels: { zone: 'a' },
        exclude_hosts: ['hosts/patch'],
      },
    ],
  ];
  for (const [label, request] of requests) {
    const watch = watchTargets(t, raw, request);
    await watch.waitForInitial();
    t.is(watch.error, undefined, `${label}: ${watch.error?.message}`);
    const initial = watch.initialMessages;
    t.true(initial.every((message) => message.initial), `${label}: every message of the initial set says so`);
    t.deepEqual(
      initial.map((message) => message.initial_complete),
      initial.map((_, i) => i === initial.length - 1),
      `${label}: only the last initial message completes it`,
    );
    t.true(initial.every((message) => message.revision === current), `${label}: the initial set is at the current revision`);
    const changes = initial.flatMap((message) => message.changes);
    t.true(changes.every((change) => change.kind === 'TARGET_CHANGE_KIND_ADDED'), `${label}: the initial set is ADDED targets`);
    t.true(changes.every((change) => change.result?.revision === current), `${label}: verdicts at the current revision`);
    t.is(new Set(changes.map((change) => change.sort_key)).size, changes.length, `${label}: sort keys are distinct`);

    const found = await findTargetsRaw(raw.compatibility, { ...request, limit: 10_000 });
    t.is(found.summary.revision, current);
    t.is(changes.length, found.summary.compatible, `${label}: as many targets as FindTargets finds compatible`);
    t.deepEqual(
      changes.map((change) => change.name).sort(),
      found.targets.map((target) => target.name).sort(),
      `${label}: the same targets`,
    );
    const ranked = [...changes].sort(bySortKey);
    t.deepEqual(ranked.map((change) => change.name), found.targets.map((target) => target.name), `${label}: sort-key order is rank order`);
    t.deepEqual(
      ranked.map((change) => ({ ...targetView(change), revision: change.result.revision })),
      found.targets.map((target) => ({ ...targetView(target), revision: target.result.revision })),
      `${label}: the same verdicts, capacities, exactness and host states`,
    );
    if (label === 'a registered source') {
      t.true(initial.length > 1, 'the initial set of 600-odd targets spans several messages');
      t.false(changes.some((change) => change.name.startsWith('hosts/drained/')), 'a draining host is left out');
      t.false(changes.some((change) => change.name.startsWith('hosts/src/')), "the source's own host is left out");
      t.true(changes.some((change) => change.result.verdict === 'VERDICT_COMPATIBLE_WITH_WARNINGS'), 'warnings rank too');
    }
    watch.cancel();
  }
});

test('then only diffs, each at its revision: added, updated, drained, back, gone; nothing for changes that do not concern the query', async (t) => {
  const { client, raw } = await start(t);
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  await client.syncHost(host('t1', [spec('gpu0', gvt('1.2.0'), { total: 4, available: 2 })]));
  await client.syncHost(host('t2', [spec('gpu0', gvt('1.2.0'), { total: 4, available: 3 })]));
  await client.syncHost(host('bad', [spec('gpu0', gvt('1.1.0'))]));
  const watch = watchTargets(t, raw, { source: { name: SRC } });
  const withDraining = watchTargets(t, raw, { source: { name: SRC }, include_draining_hosts: true });
  await watch.waitForInitial();
  await withDraining.waitForInitial();
  const T1 = 'hosts/t1/devices/gpu0';
  const T2 = 'hosts/t2/devices/gpu0';
  const N1 = 'hosts/n1/devices/gpu0';
  t.deepEqual(watch.ranked().map((c) => c.name), [T2, T1], 'more free capacity first');
  const t1Key = watch.applied().targets.get(T1)!.sort_key;

  const expected: [string, string[]][] = [];
  const expectedDraining: [string, string[]][] = [];
  /**
   * Makes a write and records the changes each query must receive at its revision (none: no
   * message at all); when there are some, waits for them.
   */
  const write = async (what: Promise<{ revision: string }>, changes: string[], drainingChanges = changes) => {
    const { revision } = await what;
    if (changes.length > 0) expected.push([revision, changes]);
    if (drainingChanges.length > 0) expectedDraining.push([revision, drainingChanges]);
    if (changes.length > 0) await watch.waitFor((w) => w.has(revision), 10_000, `the message of revision ${revision}`);
    if (drainingChanges.length > 0) await withDraining.waitFor((w) => w.has(revision), 10_000, `revision ${revision} (draining)`);
    return { revision, message: watch.messages.find((m) => m.revision === revision) };
  };

  // A new compatible device: ADDED, with its verdict, sort key and capacity.
  const added = await write(client.syncHost(host('n1', [spec('gpu0', gvt('1.3.0'), { total: 2, available: 1 })])), [`ADDED ${N1} READY`]);
  const [n1] = added.message!.changes;
  t.is(n1.result.verdict, 'VERDICT_COMPATIBLE');
  t.is(n1.result.revision, added.revision, "the verdict carries the change's revision");
  t.is(n1.result.source, SRC);
  t.is(n1.result.target, N1);
  t.deepEqual(n1.capacity, { total: 2, available: 1 });
  t.false(n1.exact);
  t.truthy(n1.sort_key);
  t.deepEqual(watch.ranked().map((c) => c.name), [T2, T1, N1], 'a minor version away ranks after exact matches');

  // Nothing for an incompatible device, another device type, a host's labels nobody filters on.
  await write(client.syncHost(host('bad', [spec('gpu0', gvt('1.1.0')), spec('gpu1', gvt('2.0.0'))])), []);
  await write(client.syncHost(host('nv', [spec('gpu0', nvidia('525.1.0'))])), []);
  await write(client.syncHost(host('bad', [spec('gpu0', gvt('1.1.0')), spec('gpu1', gvt('2.0.0'))], { rack: 'r9' })), []);

  // A capacity change: UPDATED with a new sort key, and the order follows.
  const updated = await write(client.syncHost(host('t1', [spec('gpu0', gvt('1.2.0'), { total: 4, available: 4 })])), [`UPDATED ${T1} READY`]);
  const [t1] = updated.message!.changes;
  t.not(t1.sort_key, t1Key, 'more free capacity, another sort key');
  t.deepEqual(t1.capacity, { total: 4, available: 4 });
  t.deepEqual(watch.ranked().map((c) => c.name), [T1, T2, N1], 'now t1 has the most free capacity');

  // Draining removes the host's targets (or, for a query that keeps draining hosts, updates
  // their state); clearing it adds them back.
  const drained = await write(setDraining(raw, 't1', true), [`REMOVED ${T1} DRAINING`], [`UPDATED ${T1} DRAINING`]);
  const [removed] = drained.message!.changes;
  t.is(removed.sort_key, '', 'a removal has no sort key');
  t.falsy(removed.result, 'nor a verdict');
  await write(setDraining(raw, 't1', false), [`ADDED ${T1} READY`], [`UPDATED ${T1} READY`]);
  t.deepEqual(watch.ranked().map((c) => c.name), [T1, T2, N1]);

  // A target that becomes incompatible, a deleted host, a device that becomes compatible.
  await write(client.syncHost(host('n1', [spec('gpu0', gvt('1.1.0'), { total: 2, available: 1 })])), [`REMOVED ${N1}`]);
  const deleted = await write(client.deleteHost('hosts/t2'), [`REMOVED ${T2}`]);
  t.is(deleted.message!.changes[0].sort_key, '');
  await write(client.syncHost(host('bad', [spec('gpu0', gvt('1.2.0')), spec('gpu1', gvt('2.0.0'))], { rack: 'r9' })), [
    'ADDED hosts/bad/devices/gpu0 READY',
  ]);

  const received = (w: TargetsWatch) => w.updates.map((message): [string, string[]] => [message.revision, message.changes.map(short)]);
  t.deepEqual(received(watch), expected, 'exactly these messages, one per revision that concerns the query');
  t.deepEqual(received(withDraining), expectedDraining, 'the same, keeping draining hosts');
  for (const message of watch.updates) {
    t.false(message.initial);
    for (const change of message.changes) if (change.result) t.is(change.result.revision, message.revision);
  }
  await assertMatchesFind(t, raw, watch, { source: { name: SRC } }, 'at the end');
  await assertMatchesFind(t, raw, withDraining, { source: { name: SRC }, include_draining_hosts: true }, 'at the end, with draining');
});

test('a lapsed lease removes the host\'s targets as UNREACHABLE; its next keepalive adds them back', async (t) => {
  // A TTL long enough that the agents that keep renewing never lapse, even in a slow run.
  const { client, raw } = await start(t, { leaseTtlMs: 3000 });
  const agents = keepAlive(raw, [], 100);
  const lapsingAgent = keepAlive(raw, [], 100);
  t.teardown(() => agents.stop());
  t.teardown(() => lapsingAgent.stop());
  for (const name of ['src', 'kept', 'lapsing']) {
    await client.syncHost(host(name, [spec('gpu0', gvt('1.2.0'))]));
    (name === 'lapsing' ? lapsingAgent : agents).hosts.add(`hosts/${name}`);
  }
  const LAPSING = 'hosts/lapsing/devices/gpu0';
  const watch = watchTargets(t, raw, { source: { name: SRC } });
  const withUnreachable = watchTargets(t, raw, { source: { name: SRC }, include_unreachable_hosts: true });
  await watch.waitForInitial();
  await withUnreachable.waitForInitial();
  t.deepEqual(watch.ranked().map((c) => c.name), ['hosts/kept/devices/gpu0', LAPSING]);
  const initialRevision = Number(watch.initialMessages[0].revision);

  await lapsingAgent.stop(); // its agent goes away: every keepalive it sent has been answered
  const changeOf = (w: TargetsWatch, kind: string, after: number) =>
    w.updates.find((m) => Number(m.revision) > after && m.changes.some((c) => c.name === LAPSING && c.kind === kind));
  await watch.waitFor((w) => changeOf(w, 'TARGET_CHANGE_KIND_REMOVED', initialRevision) !== undefined, 10_000, 'the lapse');
  const removal = changeOf(watch, 'TARGET_CHANGE_KIND_REMOVED', initialRevision)!;
  const [lapse] = await historyOf(client, { resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' });
  t.regex(lapse.reason, /lease expired/);
  t.is(lapse.after?.host?.state, 'HOST_STATE_UNREACHABLE');
  t.is(removal.revision, lapse.revision, 'removed at the revision of the lapse');
  t.deepEqual(removal.changes.map(short), [`REMOVED ${LAPSING} UNREACHABLE`], 'saying why');

  const back = keepAlive(raw, ['hosts/lapsing'], 100); // it comes back
  t.teardown(() => back.stop());
  const lapseRevision = Number(lapse.revision);
  await watch.waitFor((w) => changeOf(w, 'TARGET_CHANGE_KIND_ADDED', lapseRevision) !== undefined, 10_000, 'the return');
  const addition = changeOf(watch, 'TARGET_CHANGE_KIND_ADDED', lapseRevision)!;
  t.deepEqual(addition.changes.map(short), [`ADDED ${LAPSING} READY`]);
  const [renewal] = await historyOf(client, { resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' });
  t.regex(renewal.reason, /keepalive/);
  t.is(addition.revision, renewal.revision, 'added at the revision of the renewal');
  await withUnreachable.waitFor((w) => w.has(addition.revision), 10_000, 'the return, keeping unreachable hosts');

  // Up to the return, each query got one message per state change of a target's host (the
  // lapse and the renewal; more only if a kept-alive host lapsed in a very slow run), and
  // nothing else: the kept-alive host and the source's own host send nothing.
  const stateChanges = (await historyOf(client, { startRevision: initialRevision + 1, endRevision: addition.revision, order: 'HISTORY_ORDER_OLDEST_FIRST' }))
    .filter((e) => !e.resource.includes('/devices/') && e.resource !== 'hosts/src' && e.before?.host?.state !== e.after?.host?.state)
    .map((e) => ({ revision: e.revision, device: `${e.resource}/devices/gpu0`, state: e.after!.host!.state.replace('HOST_STATE_', '') }));
  t.true(stateChanges.length >= 2);
  const upTo = (w: TargetsWatch) =>
    w.updates.filter((m) => Number(m.revision) <= Number(addition.revision)).map((m) => [m.revision, m.changes.map(short)]);
  t.deepEqual(
    upTo(watch),
    stateChanges.map((c) => [c.revision, [c.state === 'READY' ? `ADDED ${c.device} READY` : `REMOVED ${c.device} ${c.state}`]]),
  );
  t.deepEqual(
    upTo(withUnreachable),
    stateChanges.map((c) => [c.revision, [`UPDATED ${c.device} ${c.state}`]]),
    'a query that keeps unreachable hosts gets their state instead',
  );
  await assertMatchesFind(t, raw, watch, { source: { name: SRC } }, 'after the return');
  t.deepEqual([...agents.errors, ...back.errors], [], 'every keepalive renewed a lease');
});

/** A small deterministic generator (mulberry32), so a failure replays the same changes. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)] };
}

test('a client applying the diffs keeps the set and order a fresh FindTargets gives, through random changes', async (t) => {
  const { client, raw } = await start(t);
  const rnd = random(20261127);
  const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.2.3', '1.3.0', '1.4.0', '2.0.0'];
  const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5'];
  const descriptorOf = () => {
    const version = rnd.pick(VERSIONS);
    const kind = rnd.int(6);
    return kind === 0 ? warnGvt(version) : kind === 1 ? compatibleTypeGvt(version) : kind === 2 ? nvidia(version) : gvt(version);
  };
  const capacityOf = (): Capacity | undefined => (rnd.int(4) === 0 ? undefined : { total: 4, available: rnd.int(5) });
  let sourceVersion = '1.2.0';
  const syncSource = () =>
    client.syncHost(host('src', [spec('gpu0', gvt(sourceVersion)), spec('gpu1', gvt(rnd.pick(VERSIONS)))], { zone: 'a' }));
  await syncSource();
  const existing = new Set<string>();
  const randomSync = (name: string) => {
    existing.add(name);
    const devices = ['d0', 'd1', 'd2'].filter(() => rnd.int(3) > 0).map((id) => spec(id, descriptorOf(), capacityOf()));
    return client.syncHost(host(name, devices, { zone: rnd.pick(['a', 'b']) }));
  };
  for (const name of HOSTS) await randomSync(name);

  const requests = {
    plain: { source: { name: SRC } },
    filtered: { source: { name: SRC }, include_draining_hosts: true, host_labels: { zone: 'a' } },
    available: { source: { descriptor: gvt('1.2.0') }, require_available: true, exclude_hosts: ['h5'] },
  };
  const watches = Object.fromEntries(
    Object.entries(requests).map(([label, request]) => [label, watchTargets(t, raw, request)]),
  ) as Record<keyof typeof requests, TargetsWatch>;
  for (const watch of Object.values(watches)) await watch.waitForInitial();

  // A marker every query sees change: a device like the source's, its free capacity counting up.
  let markerCount = 0;
  const checkpoint = async (label: string) => {
    markerCount++;
    const { revision } = await client.syncHost(
      host('marker', [spec('m0', gvt(sourceVersion), { total: 1000, available: markerCount })], { zone: 'a' }),
    );
    for (const watch of Object.values(watches)) await watch.waitFor((w) => w.has(revision), 10_000, `${label}: the marker`);
    for (const [name, request] of Object.entries(requests)) {
      await assertMatchesFind(t, raw, watches[name as keyof typeof requests], request, `${label}, ${name}`, revision);
    }
  };
  await checkpoint('initial');

  const log: string[] = [];
  for (let step = 1; step <= 48; step++) {
    const roll = rnd.int(20);
    const name = rnd.pick(HOSTS);
    if (roll < 9) {
      log.push(`sync ${name}`);
      await randomSync(name);
    } else if (roll < 11 && existing.has(name)) {
      log.push(`delete ${name}`);
      existing.delete(name);
      await client.deleteHost(`hosts/${name}`);
    } else if (roll < 15 && existing.has(name)) {
      const draining = rnd.int(2) === 0;
      log.push(`draining ${name} ${draining}`);
      await setDraining(raw, name, draining);
    } else if (roll < 17) {
      sourceVersion = rnd.pick(['1.1.0', '1.2.0', '1.2.3', '1.3.0']);
      log.push(`source ${sourceVersion}`);
      await syncSource();
    } else {
      log.push('unrelated');
      await client.syncHost(host('nv', [spec('gpu0', nvidia(rnd.pick(VERSIONS)))]));
    }
    if (step % 8 === 0) await checkpoint(`after step ${step} (${log.slice(-8).join(', ')})`);
  }

  for (const [label, watch] of Object.entries(watches)) {
    const revisions = watch.messages.map((message) => Number(message.revision));
    t.true(
      revisions.every((revision, i) => i === 0 || revision > revisions[i - 1] || watch.messages[i].initial),
      `${label}: one message per revision, in revision order`,
    );
    t.is(watch.error, undefined, `${label}: the stream is still open`);
  }
  t.true(watches.plain.updates.length > 10, 'the changes did reach the query');
});

test('a followed source that changes re-judges every target; its deletion ends the stream with NOT_FOUND', async (t) => {
  const { client, raw, server } = await start(t);
  const baseline = server.openStreams();
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  await client.syncHost(host('src2', [spec('gpu0', gvt('1.2.0')), spec('gpu1', gvt('1.2.0'))]));
  await client.syncHost(host('e', [spec('gpu0', gvt('1.2.0'))]));
  await client.syncHost(host('n', [spec('gpu0', gvt('1.3.0'))]));
  await client.syncHost(host('m', [spec('gpu0', gvt('1.4.0'), { total: 2, available: 2 })]));
  const E = 'hosts/e/devices/gpu0';
  const N = 'hosts/n/devices/gpu0';
  const M = 'hosts/m/devices/gpu0';
  const watch = watchTargets(t, raw, { source: { name: SRC } });
  const other = watchTargets(t, raw, { source: { name: 'hosts/src2/devices/gpu0' } });
  await watch.waitForInitial();
  await other.waitForInitial();
  t.deepEqual(watch.ranked().map((c) => c.name), [E, 'hosts/src2/devices/gpu0', 'hosts/src2/devices/gpu1', N, M]);
  const keys = new Map(watch.ranked().map((c) => [c.name, c.sort_key]));

  // The source is upgraded to 1.3: a 1.2 target can no longer take it; n is now exact.
  const upgrade = await client.syncHost(host('src', [spec('gpu0', gvt('1.3.0'))]));
  await watch.waitFor((w) => w.has(upgrade.revision), 10_000, 'the re-judgement');
  const rejudged = watch.updates.find((m) => m.revision === upgrade.revision)!;
  t.deepEqual(rejudged.changes.map(short).sort(), [
    `REMOVED ${E}`,
    'REMOVED hosts/src2/devices/gpu0',
    'REMOVED hosts/src2/devices/gpu1',
    `UPDATED ${M} READY`,
    `UPDATED ${N} READY`,
  ]);
  const n = rejudged.changes.find((c) => c.name === N)!;
  t.true(n.exact, 'same version: exact now');
  t.is(n.result.revision, upgrade.revision);
  t.not(n.sort_key, keys.get(N));
  t.deepEqual(watch.ranked().map((c) => c.name), [N, M]);
  await assertMatchesFind(t, raw, watch, { source: { name: SRC } }, 'after the upgrade', upgrade.revision);
  // For a query whose source is elsewhere, the changed source is just a target that changed.
  await other.waitFor((w) => w.has(upgrade.revision), 10_000, 'the change, as a target of another query');
  t.deepEqual(other.updates.map((m) => [m.revision, m.changes.map(short)]), [[upgrade.revision, [`UPDATED ${SRC} READY`]]]);

  // Back to 1.2: the removed targets come back.
  const downgrade = await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  await watch.waitFor((w) => w.has(downgrade.revision), 10_000, 'the second re-judgement');
  await assertMatchesFind(t, raw, watch, { source: { name: SRC } }, 'after the downgrade', downgrade.revision);

  // The source disappears: by a sync that drops it, and by deleting its host.
  await client.syncHost(host('src2', [spec('gpu1', gvt('1.2.0'))]));
  await other.waitFor((w) => w.ended, 10_000, 'the end of the stream whose source was dropped');
  t.is(other.error?.code, grpc.status.NOT_FOUND, `dropped source: ${other.error?.codeName} ${other.error?.message}`);
  await client.deleteHost('hosts/src');
  await watch.waitFor((w) => w.ended, 10_000, 'the end of the stream whose source host was deleted');
  t.is(watch.error?.code, grpc.status.NOT_FOUND, `deleted source host: ${watch.error?.codeName} ${watch.error?.message}`);
  await eventually(() => server.openStreams() === baseline, 5000, 'the ended streams to be released');
  t.is(server.openStreams(), baseline);
});

test('cancelling a standing query leaves nothing open; one that cannot start fails at once and leaves nothing either', async (t) => {
  const { client, raw, server } = await start(t);
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  await client.syncHost(host('t1', [spec('gpu0', gvt('1.2.0'))]));
  const baseline = server.openStreams();
  const watches = [
    watchTargets(t, raw, { source: { name: SRC } }),
    watchTargets(t, raw, { source: { descriptor: gvt('1.2.0') } }),
    watchTargets(t, raw, { source: { name: SRC }, include_draining_hosts: true, host_labels: { zone: 'a' } }),
  ];
  for (const watch of watches) await watch.waitForInitial();
  await eventually(() => server.openStreams() === baseline + watches.length, 5000, 'three open streams');
  watches[0].cancel();
  await eventually(() => server.openStreams() === baseline + 2, 5000, 'one stream released');
  // The others go on.
  const { revision } = await client.syncHost(host('t2', [spec('gpu0', gvt('1.2.0'))]));
  await watches[1].waitFor((w) => w.has(revision), 10_000, 'a change after a cancel');
  for (const watch of watches.slice(1)) watch.cancel();
  await eventually(() => server.openStreams() === baseline, 5000, 'every stream released');

  const unknown = watchTargets(t, raw, { source: { name: 'hosts/nope/devices/gpu0' } });
  await unknown.waitFor((w) => w.ended, 10_000, 'an unknown source to fail');
  t.is(unknown.error?.code, grpc.status.NOT_FOUND);
  t.deepEqual(unknown.messages, []);
  const invalid = watchTargets(t, raw, { host_labels: { 'Bad Key': 'x' } });
  await invalid.waitFor((w) => w.ended, 10_000, 'an invalid request to fail');
  t.is(invalid.error?.code, grpc.status.INVALID_ARGUMENT);
  await eventually(() => server.openStreams() === baseline, 5000, 'failed streams released');
  t.is(server.openStreams(), baseline);
  // Later changes reach no one and break nothing.
  await client.syncHost(host('t3', [spec('gpu0', gvt('1.2.0'))]));
  t.is(server.openStreams(), baseline);
});

test('a standing query whose client stops reading is cut off with WATCH_TOO_SLOW; writers and other queries go on', async (t) => {
  // The status waits behind what the client has not read, for --send-timeout.
  const { client, raw, server } = await start(t, { watchBufferBytes: 64 * 1024, metricsAddress: '127.0.0.1:0', limits: { sendTimeoutMs: 10_000 } });
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  const baseline = server.openStreams();
  const slow = watchTargets(t, raw, { source: { name: SRC } });
  const healthy = watchTargets(t, raw, { source: { name: SRC } });
  await slow.waitForInitial();
  await healthy.waitForInitial();
  slow.call.pause(); // stops reading: HTTP/2 flow control backs up into the server
  // Each sync adds or removes 100 compatible targets: one message of 100 changes, results included.
  const many = Array.from({ length: 100 }, (_, i) => spec(`gpu${i}`, gvt('1.2.0')));
  let last = '';
  const writes = (async () => {
    for (let i = 0; i < 80; i++) last = (await client.syncHost(host('t', i % 2 === 0 ? many : []))).revision;
  })();
  await cutOffsReach(server.metricsAddress!, 1, 'the slow query cut off');
  slow.call.resume(); // it reads again, within --send-timeout: what was sent, then the status
  await writes;
  await healthy.waitFor((w) => w.has(last), 30_000, 'the healthy query gets every change');
  t.is(healthy.applied().targets.size, 0, 'the healthy query applied every diff: the last sync removed every target');
  await slow.waitFor((w) => w.ended, 20_000, 'the slow query to end');
  t.is(slow.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(slow.error?.reason, 'WATCH_TOO_SLOW');
  t.is(slow.error?.message, 'the standing query fell too far behind: resync required (open it again)');
  t.false(slow.has(last), 'it was cut before the end');
  await eventually(() => server.openStreams() === baseline + 1, 10_000, 'the slow query released');
  healthy.cancel();
  await eventually(() => server.openStreams() === baseline, 5000, 'every stream released');
});

test('a standing query cut off as too slow whose client never reads its status has its stream reset after --send-timeout, releasing what it held', async (t) => {
  const { client, raw, server } = await start(t, { watchBufferBytes: 64 * 1024, metricsAddress: '127.0.0.1:0', limits: { sendTimeoutMs: 500 } });
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  const baseline = server.openStreams();
  const slow = watchTargets(t, raw, { source: { name: SRC } });
  await slow.waitForInitial();
  slow.call.pause();
  const many = Array.from({ length: 100 }, (_, i) => spec(`gpu${i}`, gvt('1.2.0')));
  for (let i = 0; i < 80; i++) await client.syncHost(host('t', i % 2 === 0 ? many : []));
  await cutOffsReach(server.metricsAddress!, 1, 'the slow query cut off');
  // Its client still reads nothing: the status cannot go, and the stream is reset all the same
  // (the client learns it while it reads nothing: the reset is not held behind its messages).
  await eventually(() => slow.ended, 10_000, 'the unread query reset');
  t.is(slow.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(slow.error?.reason, undefined, 'a reset, not the status');
  await eventually(() => server.openStreams() === baseline, 10_000, 'the unread query released');
});

test('an initial set larger than the buffer reaches a client that reads it; one that reads nothing is held, then cut off with WATCH_TOO_SLOW once the diffs waiting behind its initial set pass the bound', async (t) => {
  const { client, raw, server } = await start(t, { watchBufferBytes: 64 * 1024, metricsAddress: '127.0.0.1:0', limits: { sendTimeoutMs: 10_000 } });
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  // 6,000 compatible targets: twelve initial chunks of 500, megabytes of messages.
  const devices = Array.from({ length: 100 }, (_, i) => spec(`gpu${i}`, gvt('1.2.0')));
  for (let h = 0; h < 60; h++) await client.syncHost(host(`t${h}`, devices));
  const baseline = server.openStreams();
  const slow = watchTargets(t, raw, { source: { name: SRC } });
  slow.call.pause(); // reads nothing from the start: its initial set backs up into the server
  const healthy = watchTargets(t, raw, { source: { name: SRC } });
  await healthy.waitForInitial(30_000);
  t.is(healthy.error, undefined);
  t.is(healthy.initialMessages.length, 12);
  t.is(healthy.applied().targets.size, 6000, 'the reading client has the whole initial set');
  t.deepEqual(healthy.applied().anomalies, []);
  // Each sync adds or removes 100 targets: diffs of tens of KB, which the unread query must hold behind its initial set.
  let last = '';
  const writes = (async () => {
    for (let i = 0; i < 20; i++) last = (await client.syncHost(host('extra', i % 2 === 0 ? devices : []))).revision;
  })();
  await cutOffsReach(server.metricsAddress!, 1, 'the unread query cut off');
  slow.call.resume(); // within --send-timeout
  await writes;
  await healthy.waitFor((w) => w.has(last), 20_000, 'the reading query gets every diff');
  t.is(healthy.applied().targets.size, 6000, 'the last sync removed the 100 it added');
  t.deepEqual(healthy.applied().anomalies, []);
  await slow.waitFor((w) => w.ended, 20_000, 'the unread query to end');
  t.is(slow.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(slow.error?.reason, 'WATCH_TOO_SLOW');
  t.false(slow.has(last), 'it was cut before the end');
  t.deepEqual(slow.applied().anomalies, [], 'what it did get was in order');
  await eventually(() => server.openStreams() === baseline + 1, 10_000, 'the unread query released');
  healthy.cancel();
  await eventually(() => server.openStreams() === baseline, 5000, 'every stream released');
});

test('a client that reads none of its initial set while nothing changes is cut off after the send timeout, its stream reset and released; one that reads is not', async (t) => {
  const { client, raw, server } = await start(t, { watchBufferBytes: 64 * 1024, limits: { sendTimeoutMs: 1500 } });
  await client.syncHost(host('src', [spec('gpu0', gvt('1.2.0'))]));
  const devices = Array.from({ length: 100 }, (_, i) => spec(`gpu${i}`, gvt('1.2.0')));
  for (let h = 0; h < 60; h++) await client.syncHost(host(`t${h}`, devices));
  const baseline = server.openStreams();
  // A connection whose flow-control window is zero: it can receive nothing of the initial set,
  // and the registry stays quiet, so no diff will push it past the buffer's bound.
  const unread = rawSession(server.address, { initialWindowSize: 0 });
  t.teardown(() => unread.session.destroy());
  const type = protoRoot().lookupType('devcompat.v1.WatchTargetsRequest');
  const call = unread.open('/devcompat.v1.CompatibilityService/WatchTargets', false);
  call.stream.end(frame(type.encode(type.fromObject({ source: { name: SRC } })).finish()));
  const healthy = watchTargets(t, raw, { source: { name: SRC } });
  await healthy.waitForInitial(30_000);
  t.is(healthy.applied().targets.size, 6000);
  await eventually(() => server.openStreams() === baseline + 1, 20_000, 'the unread query to be cut off and released');
  const outcome = await call.ended;
  t.true(outcome.status === grpc.status.RESOURCE_EXHAUSTED || outcome.rstCode !== 0, `ended: ${JSON.stringify(outcome)}`);
  // The reading query goes on past the timeout.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const last = (await client.syncHost(host('late', [spec('gpu0', gvt('1.2.0'))]))).revision;
  await healthy.waitFor((w) => w.has(last), 10_000, 'the reading query gets a later diff');
  t.is(healthy.error, undefined);
  healthy.cancel();
  await eventually(() => server.openStreams() === baseline, 5000, 'every stream released');
});
