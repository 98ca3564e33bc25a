// HistoryService through the client library against a real server: who changed what, when,
// at which revision; filters, order and pagination. And a restart on the same database file:
// everything the registry held is still there and the revision sequence goes on.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { DevcompatClient, HistoryEntry } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { asDescriptor, collect, extraClient, findAll, gvt, historyOf, loadVectors, names, nextMillisecond, rejectsWith } from './helpers/integration.ts';

const timeMs = (time: Date) => time.getTime();
const summary = (e: HistoryEntry) => [e.revision, e.resource, e.kind.replace('CHANGE_KIND_', ''), e.actor];
/** Entries as summaries, sorted by revision then resource (order within a revision is not specified). */
const byRevision = (entries: HistoryEntry[]) =>
  entries.map(summary).sort((a, b) => Number(a[0]) - Number(b[0]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));

const H1 = 'hosts/h1';
const H2 = 'hosts/h2';
const dev = (host: string, id: string) => `${host}/devices/${id}`;

/**
 * Five revisions by three actors, each at its own millisecond:
 * r1 agent-1 creates h1 (gpu0, gpu1); r2 agent-1 creates h2 (gpu0);
 * r3 admin upgrades h1/gpu0, removes h1/gpu1, adds h1/gpu2; r4 anonymous relabels h1;
 * r5 admin deletes h2.
 */
async function story(t: ExecutionContext) {
  const testServer = await startTestServer(t, { client: { actor: 'agent-1' } });
  const agent = testServer.client;
  const admin = extraClient(t, testServer.server.address, { actor: 'admin' });
  const anonymous = extraClient(t, testServer.server.address);
  const times: number[] = [];
  const wrote = async <T extends { revision: string }>(write: Promise<T>): Promise<T> => {
    const result = await write;
    times[Number(result.revision)] = Date.now();
    await nextMillisecond(); // every revision at its own millisecond, for the time filters
    return result;
  };
  await wrote(
    agent.syncHost({
      name: 'h1',
      labels: { zone: 'a' },
      devices: [
        { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 4, available: 4 } },
        { device_id: 'gpu1', descriptor: gvt('1.2.0') },
      ],
    }),
  );
  await wrote(agent.syncHost({ name: 'h2', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] }));
  const r3 = await wrote(
    admin.syncHost({
      name: 'h1',
      labels: { zone: 'a' },
      devices: [
        { device_id: 'gpu0', descriptor: gvt('1.3.0'), capacity: { total: 4, available: 4 } },
        { device_id: 'gpu2', descriptor: gvt('1.2.0') },
      ],
    }),
  );
  await wrote(
    anonymous.syncHost({
      name: 'h1',
      labels: { zone: 'b' },
      devices: [
        { device_id: 'gpu0', descriptor: gvt('1.3.0'), capacity: { total: 4, available: 4 } },
        { device_id: 'gpu2', descriptor: gvt('1.2.0') },
      ],
    }),
  );
  await wrote(admin.deleteHost('hosts/h2'));
  return { ...testServer, agent, admin, anonymous, r3 };
}

const STORY = [
  ['1', H1, 'CREATED', 'agent-1'],
  ['1', dev(H1, 'gpu0'), 'CREATED', 'agent-1'],
  ['1', dev(H1, 'gpu1'), 'CREATED', 'agent-1'],
  ['2', H2, 'CREATED', 'agent-1'],
  ['2', dev(H2, 'gpu0'), 'CREATED', 'agent-1'],
  ['3', dev(H1, 'gpu0'), 'UPDATED', 'admin'],
  ['3', dev(H1, 'gpu1'), 'DELETED', 'admin'],
  ['3', dev(H1, 'gpu2'), 'CREATED', 'admin'],
  ['4', H1, 'UPDATED', 'anonymous'],
  ['5', H2, 'DELETED', 'admin'],
  ['5', dev(H2, 'gpu0'), 'DELETED', 'admin'],
];

const of = (...revisions: string[]) => STORY.filter((entry) => revisions.includes(entry[0]));

test('history records every change: revision, time, resource, kind, actor, before and after', async (t) => {
  const { agent, r3 } = await story(t);
  const newest = await historyOf(agent);
  t.deepEqual(byRevision(newest), STORY);
  t.deepEqual(
    newest.map((e) => Number(e.revision)),
    newest.map((e) => Number(e.revision)).sort((a, b) => b - a),
    'newest first by default',
  );
  const oldest = await historyOf(agent, { order: 'HISTORY_ORDER_OLDEST_FIRST' });
  t.deepEqual(oldest, [...newest].reverse(), 'oldest first is the exact reverse');
  t.deepEqual(await historyOf(agent, { order: 'HISTORY_ORDER_NEWEST_FIRST' }), newest);

  // Times: one per revision, increasing, and the time the sync reported.
  const timeOf = new Map(oldest.map((e) => [e.revision, timeMs(e.time)]));
  t.deepEqual([...timeOf.keys()], ['1', '2', '3', '4', '5']);
  const times = [...timeOf.values()];
  t.deepEqual(times, [...times].sort((a, b) => a - b));
  t.is(new Set(times).size, 5);
  for (const e of oldest) t.is(timeOf.get(e.revision), timeMs(e.time), `${e.resource}: one time per revision`);
  t.is(timeOf.get('3'), timeMs(r3.host.update_time));

  const at = (revision: string, resource: string) => oldest.find((e) => e.revision === revision && e.resource === resource)!;
  // A creation has no before; a deletion no after; an update both.
  const created = at('1', dev(H1, 'gpu0'));
  t.is(created.before, null);
  t.like(created.after?.device, { name: dev(H1, 'gpu0'), revision: '1', create_revision: '1', capacity: { total: 4, available: 4 } });
  t.is(created.after?.device?.descriptor.software_version, '1.2.0');

  const upgraded = at('3', dev(H1, 'gpu0'));
  t.is(upgraded.before?.device?.descriptor.software_version, '1.2.0');
  t.is(upgraded.before?.device?.revision, '1');
  t.is(upgraded.after?.device?.descriptor.software_version, '1.3.0');
  t.like(upgraded.after?.device, { revision: '3', create_revision: '1' });

  const removed = at('3', dev(H1, 'gpu1'));
  t.is(removed.after, null);
  t.like(removed.before?.device, { name: dev(H1, 'gpu1'), revision: '1' });

  const relabelled = at('4', H1);
  t.deepEqual(relabelled.before?.host?.labels, { zone: 'a' });
  t.deepEqual(relabelled.after?.host?.labels, { zone: 'b' });
  t.like(relabelled.after?.host, { name: H1, revision: '4', create_revision: '1' });

  const hostGone = at('5', H2);
  t.is(hostGone.after, null);
  t.like(hostGone.before?.host, { name: H2, create_revision: '2' });
});

test('history filters by resource, revision range, time range and actor', async (t) => {
  const { agent } = await story(t);
  const filtered = async (filter: Parameters<typeof historyOf>[1]) => byRevision(await historyOf(agent, filter));

  // A host means the host and its devices; a device only itself.
  t.deepEqual(await filtered({ resource: H1 }), STORY.filter((e) => e[1].startsWith(`${H1}/`) || e[1] === H1));
  t.deepEqual(await filtered({ resource: 'h2' }), STORY.filter((e) => e[1].startsWith(H2)), 'a bare host id');
  t.deepEqual(await filtered({ resource: dev(H1, 'gpu0') }), STORY.filter((e) => e[1] === dev(H1, 'gpu0')));
  t.deepEqual(await filtered({ resource: dev(H2, 'gpu0') }), of('2', '5').filter((e) => e[1] === dev(H2, 'gpu0')));
  t.deepEqual(await filtered({ resource: 'hosts/h3' }), []);

  t.deepEqual(await filtered({ startRevision: 2, endRevision: 3 }), of('2', '3'));
  t.deepEqual(await filtered({ startRevision: 4 }), of('4', '5'));
  t.deepEqual(await filtered({ endRevision: '1' }), of('1'));
  t.deepEqual(await filtered({ startRevision: 3, endRevision: 3, resource: H1 }), of('3'));

  // Times: start inclusive, end exclusive.
  const oldest = await historyOf(agent, { order: 'HISTORY_ORDER_OLDEST_FIRST' });
  const timeOf = (revision: string) => new Date(timeMs(oldest.find((e) => e.revision === revision)!.time));
  t.deepEqual(await filtered({ startTime: timeOf('3'), endTime: timeOf('5') }), of('3', '4'));
  t.deepEqual(await filtered({ startTime: timeOf('5') }), of('5'));
  t.deepEqual(await filtered({ endTime: timeOf('2') }), of('1'));
  t.deepEqual(await filtered({ startTime: new Date(timeOf('2').getTime() + 1), endTime: timeOf('3') }), []);

  t.deepEqual(await filtered({ actor: 'admin' }), of('3', '5'));
  t.deepEqual(await filtered({ actor: 'anonymous' }), of('4'), 'a client without an actor is recorded as anonymous');
  t.deepEqual(await filtered({ actor: 'agent-1' }), of('1', '2'));
  t.deepEqual(await filtered({ actor: 'admin', resource: H1 }), of('3'));
  t.deepEqual(await filtered({ actor: 'nobody' }), []);

  const bad = await rejectsWith(t, agent.listHistoryPage({ startRevision: 4, endRevision: 2 }), grpc.status.INVALID_ARGUMENT);
  t.true(bad.fieldViolations.length > 0);
  const badResource = await rejectsWith(t, agent.listHistoryPage({ resource: 'hosts/h1/devices/' }), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(badResource.fieldViolations.map((v) => v.field), ['resource']);
});

test('history pages return every entry exactly once, and a page token only fits its own filters', async (t) => {
  const { agent } = await story(t);
  for (const filter of [
    {},
    { order: 'HISTORY_ORDER_OLDEST_FIRST' as const },
    { resource: H1, order: 'HISTORY_ORDER_OLDEST_FIRST' as const },
    { actor: 'admin' },
  ]) {
    const whole = await historyOf(agent, filter);
    const pages: HistoryEntry[][] = [];
    let token = '';
    do {
      const page = await agent.listHistoryPage(filter, { pageSize: 2, pageToken: token });
      t.is(page.revision, '5', 'each page carries the revision');
      t.true(page.entries.length <= 2);
      pages.push(page.entries);
      token = page.next_page_token;
    } while (token && pages.length < 20);
    t.deepEqual(pages.flat(), whole, `${JSON.stringify(filter)}: the pages add up to the listing`);
    t.is(pages.length, Math.ceil(whole.length / 2));
    t.deepEqual(await historyOf(agent, filter, 1), whole, 'one by one too');
  }
  t.is((await historyOf(agent)).length, STORY.length);

  const first = await agent.listHistoryPage({ resource: H1 }, { pageSize: 2 });
  t.truthy(first.next_page_token);
  for (const other of [{ resource: H2 }, {}, { resource: H1, actor: 'admin' }, { resource: H1, order: 'HISTORY_ORDER_OLDEST_FIRST' as const }]) {
    const error = await rejectsWith(
      t,
      agent.listHistoryPage(other, { pageSize: 2, pageToken: first.next_page_token }),
      grpc.status.INVALID_ARGUMENT,
      `token reused with ${JSON.stringify(other)}`,
    );
    t.deepEqual(error.fieldViolations.map((v) => v.field), ['page_token']);
  }
  // The same filters with an altered position: refused, not read as an empty last page.
  const parsed = JSON.parse(Buffer.from(first.next_page_token, 'base64url').toString('utf8'));
  for (const cursor of [{}, [1], [-1, 0], [1.5, 0], ['1', '0'], null]) {
    const token = Buffer.from(JSON.stringify({ f: parsed.f, c: cursor })).toString('base64url');
    const error = await rejectsWith(t, agent.listHistoryPage({ resource: H1 }, { pageSize: 2, pageToken: token }), grpc.status.INVALID_ARGUMENT, JSON.stringify(cursor));
    t.deepEqual(error.fieldViolations.map((v) => v.field), ['page_token']);
  }
  // The same filters go on, and writes between pages neither repeat nor skip an entry.
  await agent.syncHost({ name: 'h1', labels: { zone: 'c' }, devices: [] });
  const rest: HistoryEntry[] = [];
  let token = first.next_page_token;
  while (token) {
    const page = await agent.listHistoryPage({ resource: H1 }, { pageSize: 2, pageToken: token });
    rest.push(...page.entries);
    token = page.next_page_token;
  }
  t.deepEqual(byRevision([...first.entries, ...rest]), STORY.filter((e) => e[1] === H1 || e[1].startsWith(`${H1}/`)));
  t.is((await historyOf(agent, { resource: H1 })).length, 7 + 3, 'the new revision is listed by a new listing');
});

// ---------------------------------------------------------------------------------------
// Restart

async function snapshot(client: DevcompatClient) {
  return {
    hosts: await collect(client.listHosts()),
    devices: await collect(client.listDevices()),
    history: await historyOf(client),
    h1: await client.getHost('h1'),
    gpu0: await client.getDevice('hosts/h1/devices/gpu0'),
  };
}

test('a restart on the same file keeps hosts, devices, history, find results and the revision sequence', async (t) => {
  const first = await startTestServer(t, { client: { actor: 'agent-1' } });
  const client = first.client;
  await client.syncHost({
    name: 'h1',
    labels: { zone: 'a' },
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 4, available: 2 }, labels: { pool: 'x' } },
      { device_id: 'gpu1', descriptor: gvt('v1.3.0', { compatible_types: ['i915-GVTg_V4_8'] }) },
    ],
  });
  await client.syncHost({ name: 'h2', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.5'), capacity: { total: 1, available: 1 } }] });
  await client.syncHost({ name: 'h3', devices: [{ device_id: 'gpu0', descriptor: gvt('1.1.0') }] });
  await client.deleteHost('h3');
  await client.syncHost({ name: 'h2', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.5'), capacity: { total: 1, available: 0 } }] });
  await nextMillisecond();
  // A sync that changes nothing still moves last_sync_time; that must survive too.
  const touched = await client.syncHost({
    name: 'h1',
    labels: { zone: 'a' },
    devices: [
      { device_id: 'gpu1', descriptor: gvt('1.3.0', { compatible_types: ['i915-GVTg_V4_8'] }) },
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 4, available: 2 }, labels: { pool: 'x' } },
    ],
  });
  t.false(touched.changed);
  t.is(first.server.registry.revision, 5);

  const before = await snapshot(client);
  const findBefore = await findAll(t, client, 'hosts/h2/devices/gpu0', { includeRejected: true, includeSourceHost: true });
  const checkBefore = await client.check('hosts/h1/devices/gpu0', 'hosts/h1/devices/gpu1');
  t.deepEqual(before.h1.last_sync_time, touched.host.last_sync_time);

  const second = await first.restart();
  t.is(second.server.registry.revision, 5);
  t.like(second.server.registry.stats, { hosts: 2, devices: 3 });
  const after = await snapshot(second.client);
  t.deepEqual(after, before, 'hosts, devices and history read back the same');
  const findAfter = await findAll(t, second.client, 'hosts/h2/devices/gpu0', { includeRejected: true, includeSourceHost: true });
  t.deepEqual(findAfter, findBefore, 'FindTargets gives the same answer');
  t.deepEqual(names(findAfter.targets), ['hosts/h2/devices/gpu0', 'hosts/h1/devices/gpu0', 'hosts/h1/devices/gpu1']);
  t.deepEqual(await second.client.check('hosts/h1/devices/gpu0', 'hosts/h1/devices/gpu1'), checkBefore);

  // The same state is still no change (the descriptors' canonical keys were reloaded), and
  // the next change continues the revision sequence.
  const resync = await second.client.syncHost({
    name: 'h2',
    devices: [{ device_id: 'gpu0', descriptor: gvt('v1.2.5'), capacity: { total: 1, available: 0 } }],
  });
  t.like(resync, { revision: '5', changed: false });
  const next = await second.client.syncHost({ name: 'h4', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  t.like(next, { revision: '6', changed: true });
  const history = await historyOf(second.client, { order: 'HISTORY_ORDER_OLDEST_FIRST' });
  t.deepEqual(
    [...new Set(history.map((e) => e.revision))],
    ['1', '2', '3', '4', '5', '6'],
  );
  t.deepEqual(history.slice(0, -2), [...before.history].reverse(), 'the old entries are kept as they were');
  t.deepEqual(
    history.filter((e) => e.revision === '6').map((e) => e.actor),
    ['agent-1', 'agent-1'],
    'the actor of the client that wrote it',
  );

  // And once more: the new write survives a second restart.
  const third = await second.restart();
  t.is(third.server.registry.revision, 6);
  t.like(await third.client.getHost('h4'), { revision: '6', device_count: 1 });
  await rejectsWith(t, third.client.getHost('h3'), grpc.status.NOT_FOUND, 'a deleted host stays deleted');
});

test('after a restart every stored descriptor is still recognised as itself', async (t) => {
  // Every vector's descriptors (and one with every kind of field) are reloaded from the
  // file: resending them is no change, and registering them on new devices reuses them.
  const fixtures = loadVectors(new URL('./fixtures/compat-vectors.json', import.meta.url));
  const rich = gvt('v1.2.3-rc.1+build.7', {
    compatible_types: ['i915-GVTg_V4_8', 'i915-GVTg_V4_8'],
    attributes: {
      huge: { int_value: '-9223372036854775808' },
      on: { bool_value: false },
      label: { string_value: '' },
      empty: { set_value: { values: [] } },
      manager: { version_value: '535.104.05+abc' },
    },
    rules: {
      huge: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 2 }, { int_value: '1' }] },
      manager: { op: 'COMPARE_OP_SEMVER_RANGE', range: '2.0.2 - 2.0.4 || >=2.1.0', warn_only: true },
      on: { op: 'COMPARE_OP_IGNORE', range: '>=1.0.0' },
      software_version: { op: 'COMPARE_OP_VERSION_GE' },
    },
  });
  const specs = (which: 'source' | 'target') => [
    ...fixtures.vectors.map((c, i) => ({ device_id: `v${i}`, descriptor: asDescriptor(c[which]) })),
    ...fixtures.rankings.flatMap((r, i) => r.targets.map((x, j) => ({ device_id: `r${i}-${j}`, descriptor: asDescriptor(x.descriptor) }))),
    { device_id: 'rich', descriptor: rich },
  ];
  const first = await startTestServer(t);
  await first.client.syncHost({ name: 'sources', devices: specs('source') });
  await first.client.syncHost({ name: 'targets', devices: specs('target') });
  const descriptors = first.server.registry.stats.descriptors;
  const richBefore = await first.client.getDevice('hosts/sources/devices/rich');
  t.is(richBefore.descriptor.software_version, '1.2.3-rc.1+build.7', 'build metadata is kept');

  const second = await first.restart();
  t.is(second.server.registry.stats.descriptors, descriptors);
  t.deepEqual(await second.client.getDevice('hosts/sources/devices/rich'), richBefore);
  t.like(await second.client.syncHost({ name: 'sources', devices: specs('source') }), { revision: '2', changed: false });
  t.like(await second.client.syncHost({ name: 'targets', devices: specs('target') }), { revision: '2', changed: false });
  const copy = await second.client.syncHost({ name: 'copy', devices: [...specs('source'), ...specs('target').map((s) => ({ ...s, device_id: `t-${s.device_id}` }))] });
  t.like(copy, { revision: '3', changed: true, devices_created: 2 * specs('source').length });
  t.is(second.server.registry.stats.descriptors, descriptors, 'no descriptor was stored twice');
});
