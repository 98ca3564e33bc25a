// Point-in-time reads against a real server, as a scheduler or an operator uses them: a verdict
// replayed at its revision is the verdict given then; FindTargets, GetDevice and ListDevices as
// of a revision or a time answer as the registry did then, whatever happened since; bad or
// compacted points are refused with errors that say why. And FindTargets' host states: devices
// of UNREACHABLE (lapsed lease) and DRAINING hosts are left out unless asked for.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { Device, DeviceSpec, SyncHostRequest } from '../client/client.ts';
import { fromResponse } from '../client/messages.ts';
import { startTestServer } from './helpers/server.ts';
import { collect, findAll, gvt, historyOf, names, nextMillisecond, rejectsWith } from './helpers/integration.ts';
import { eventually, rawClients, unaryCall } from './helpers/watch.ts';
import { findTargetsRaw, keepAlive, timestampMs, toTimestamp } from './helpers/raw.ts';

/** Hour-long leases unless a test is about leases: a lapse in a slow run would add revisions. */
async function start(t: ExecutionContext, options: Parameters<typeof startTestServer>[1] = {}) {
  const running = await startTestServer(t, { leaseTtlMs: 3_600_000, ...options });
  const raw = rawClients(running.server.address);
  t.teardown(() => raw.close());
  return { ...running, raw };
}

const device = (id: string, version: string, extra: Partial<DeviceSpec> = {}): DeviceSpec => ({
  device_id: id,
  descriptor: gvt(version),
  ...extra,
});

const host = (name: string, devices: DeviceSpec[], labels: Record<string, string> = {}): SyncHostRequest => ({ name, labels, devices });

/** The commit time of every revision, from history (ms). */
async function revisionTimes(client: Parameters<typeof historyOf>[0]): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const entry of await historyOf(client, { order: 'HISTORY_ORDER_OLDEST_FIRST' })) times.set(entry.revision, entry.time.getTime());
  return times;
}

/** A time after revision `r` was committed and before `r + 1` was. */
function timeBetween(times: Map<string, number>, r: string): number {
  const at = times.get(r)!;
  const next = times.get(String(Number(r) + 1))!;
  if (!(next > at)) throw new Error(`revisions ${r} and ${Number(r) + 1} share a millisecond`);
  return at + Math.floor((next - at) / 2);
}

// Every write at its own millisecond, so a time can fall between two revisions.
const pause = nextMillisecond;

test('a verdict replayed at its revision is the verdict given then, after the source changed, the target was deleted and another host drained', async (t) => {
  const { client, raw } = await start(t);
  const SRC = 'hosts/src/devices/gpu0';
  const DST = 'hosts/dst/devices/gpu0';
  const OTHER = 'hosts/other/devices/gpu0';
  const OLD = 'hosts/old/devices/gpu0';
  await client.syncHost(host('src', [device('gpu0', '1.2.0')]));
  await client.syncHost(host('dst', [device('gpu0', '1.3.0', { capacity: { total: 4, available: 2 } })]));
  await client.syncHost(host('other', [device('gpu0', '1.2.0')]));
  const R = (await client.syncHost(host('old', [device('gpu0', '1.1.0')]))).revision;

  const toDst = await client.check(SRC, DST);
  const toOther = await client.check(SRC, OTHER);
  const toOld = await client.check(SRC, OLD);
  const inline = await client.check(gvt('1.2.0'), DST);
  for (const result of [toDst, toOther, toOld, inline]) {
    t.is(result.revision, R, 'a verdict carries the revision it was computed at');
    t.is(result.engine.model, 'compat-model/1');
    t.truthy(result.engine.implementation);
  }
  t.is(toDst.verdict, 'VERDICT_COMPATIBLE');
  t.is(toOther.verdict, 'VERDICT_COMPATIBLE');
  t.is(toOld.verdict, 'VERDICT_INCOMPATIBLE');
  t.is(toOld.checks.find((check) => check.attribute === 'software_version')?.reason, 'MINOR_VERSION_DOWNGRADE');

  await pause();
  await client.syncHost(host('src', [device('gpu0', '1.4.0')])); // the source's driver is upgraded
  await pause();
  await client.deleteHost('hosts/dst');
  await unaryCall(raw.registry, 'SetHostDraining', { name: 'hosts/other', draining: true });
  await client.syncHost(host('old', [device('gpu0', '1.5.0')]));

  // Now: the target is gone, and every verdict on the source is different.
  await rejectsWith(t, client.check(SRC, DST), grpc.status.NOT_FOUND, 'the deleted target now');
  const otherNow = await client.check(SRC, OTHER);
  t.is(otherNow.verdict, 'VERDICT_INCOMPATIBLE', 'a 1.2 target cannot take a 1.4 source');
  t.is((await client.check(SRC, OLD)).verdict, 'VERDICT_COMPATIBLE', 'the upgraded target now takes it');

  const replay = async (source: object, target: object, asOf: object) =>
    (await unaryCall(raw.compatibility, 'CheckCompatibility', { source, target, ...asOf })).result;
  t.deepEqual(await replay({ name: SRC }, { name: DST }, { as_of_revision: R }), toDst, 'replay onto the deleted target');
  t.deepEqual(await replay({ name: SRC }, { name: OTHER }, { as_of_revision: R }), toOther, 'replay onto the drained host');
  t.deepEqual(await replay({ name: SRC }, { name: OLD }, { as_of_revision: R }), toOld, 'replay of a refusal');
  t.deepEqual(await replay({ descriptor: gvt('1.2.0') }, { name: DST }, { as_of_revision: R }), inline, 'inline source, named target');

  const times = await revisionTimes(client);
  const at = { as_of_time: toTimestamp(timeBetween(times, R)) };
  t.deepEqual(await replay({ name: SRC }, { name: DST }, at), toDst, 'replay at a time between R and the next write');
});

test('FindTargets as of a revision ranks what it ranked then: later targets, deletions and draining do not show; a host draining then stays out', async (t) => {
  const { client, raw } = await start(t);
  const SRC = 'hosts/src/devices/gpu0';
  const drain = (name: string, draining: boolean) => unaryCall(raw.registry, 'SetHostDraining', { name, draining });
  await client.syncHost(host('src', [device('gpu0', '1.2.0'), device('gpu1', '1.2.0')]));
  await client.syncHost(host('a', [device('gpu0', '1.3.0', { capacity: { total: 4, available: 4 } })]));
  await client.syncHost(host('b', [device('gpu0', '1.2.0', { capacity: { total: 4, available: 1 } }), device('gpu1', '1.2.0')]));
  await client.syncHost(host('c', [device('gpu0', '1.2.0', { capacity: { total: 8, available: 8 } })])); // drained at R, cleared later
  await client.syncHost(host('d', [device('gpu0', '1.4.0'), device('gpu1', '1.1.0')])); // drained after R
  await client.syncHost(host('x', [device('gpu0', '1.1.0'), device('gpu1', '2.0.0')]));
  const R = (await drain('hosts/c', true)).revision;

  const atR = await findAll(t, client, SRC, { includeRejected: true });
  const atRPlain = await findAll(t, client, SRC);
  const atRDraining = await findTargetsRaw(raw.compatibility, { source: { name: SRC }, include_draining_hosts: true });
  t.is(atR.summary.revision, R);
  t.deepEqual(names(atR.targets), [
    'hosts/b/devices/gpu0', // exact, 1 free
    'hosts/b/devices/gpu1', // exact, capacity unknown
    'hosts/a/devices/gpu0', // one minor away
    'hosts/d/devices/gpu0', // two minors away
  ]);
  t.deepEqual(names(atR.rejected).sort(), ['hosts/d/devices/gpu1', 'hosts/x/devices/gpu0', 'hosts/x/devices/gpu1']);
  t.true(names(atRDraining.targets).includes('hosts/c/devices/gpu0'), 'c is a target when draining hosts are asked for');

  await pause();
  await client.syncHost(host('e', [device('gpu0', '1.2.0', { capacity: { total: 16, available: 16 } })])); // a better target
  await client.deleteHost('hosts/a');
  await drain('hosts/d', true);
  await drain('hosts/c', false);
  await client.syncHost(host('b', [device('gpu0', '1.2.0', { capacity: { total: 4, available: 0 } })])); // b/gpu1 removed
  await client.syncHost(host('src', [device('gpu0', '1.2.5'), device('gpu1', '1.2.0')])); // the source itself changes

  const now = await findAll(t, client, SRC, { includeRejected: true });
  t.notDeepEqual(names(now.targets), names(atR.targets), 'the current answer differs');
  t.true(names(now.targets).includes('hosts/e/devices/gpu0'));
  t.true(names(now.targets).includes('hosts/c/devices/gpu0'));
  t.false(names(now.targets).includes('hosts/d/devices/gpu0'));

  const asOf = (extra: object) =>
    findTargetsRaw(raw.compatibility, { source: { name: SRC }, as_of_revision: R, ...extra });
  const replayed = await asOf({ include_rejected: true });
  t.is(replayed.summaries, 1);
  t.deepEqual(replayed.targets, atR.targets, 'the same ranked targets, verdicts, capacities and host states');
  t.deepEqual(replayed.rejected, atR.rejected, 'the same rejected candidates');
  t.deepEqual(replayed.summary, atR.summary, 'the same summary, at revision R');
  const replayedPlain = await asOf({});
  t.deepEqual(replayedPlain.targets, atRPlain.targets);
  t.deepEqual(replayedPlain.summary, atRPlain.summary, 'the same counts without why-not');
  t.deepEqual(await asOf({ include_draining_hosts: true }), atRDraining, 'c offered as DRAINING, as it was then');
  t.is(atRDraining.targets.find((found) => found.name === 'hosts/c/devices/gpu0')?.host_state, 'HOST_STATE_DRAINING');

  const times = await revisionTimes(client);
  const byTime = await findTargetsRaw(raw.compatibility, {
    source: { name: SRC },
    include_rejected: true,
    as_of_time: toTimestamp(timeBetween(times, R)),
  });
  t.deepEqual(byTime.targets, atR.targets, 'as of a time between R and the next write');
  t.deepEqual(byTime.summary, atR.summary);
});

test('GetDevice as of a revision or a time shows the device as it was; one created later is absent, one deleted later present', async (t) => {
  const { client, raw } = await start(t);
  const r1 = (
    await client.syncHost(
      host('h1', [
        device('gpu0', '1.2.0', { capacity: { total: 4, available: 4 }, labels: { slot: 'a' } }),
        device('gpu1', '1.2.0'),
      ]),
    )
  ).revision;
  await pause();
  const R = (await client.syncHost(host('h2', [device('gpu0', '1.2.0', { labels: { slot: 'z' } })]))).revision;
  const thenGpu0 = await client.getDevice('hosts/h1/devices/gpu0');
  const thenGpu1 = await client.getDevice('hosts/h1/devices/gpu1');
  const thenH2 = await client.getDevice('hosts/h2/devices/gpu0');
  await pause();
  await client.syncHost(
    host('h1', [
      device('gpu0', '1.3.0', { capacity: { total: 4, available: 1 }, labels: { slot: 'b' } }),
      device('gpu2', '1.2.0'),
    ]),
  );
  await client.deleteHost('hosts/h2');
  await client.syncHost(host('h3', [device('gpu0', '1.2.0')]));

  const nowGpu0 = await client.getDevice('hosts/h1/devices/gpu0');
  t.is(nowGpu0.descriptor.software_version, '1.3.0');
  t.deepEqual(nowGpu0.capacity, { total: 4, available: 1 });
  t.deepEqual(nowGpu0.labels, { slot: 'b' });

  // Raw reads, their timestamps as the client's Dates, to compare with what the client read then.
  const get = async (name: string, asOf: object) => fromResponse<any>('GetDeviceResponse', await unaryCall(raw.registry, 'GetDevice', { name, ...asOf }));
  const atR = await get('hosts/h1/devices/gpu0', { as_of_revision: R });
  t.is(atR.revision, R, 'the read reports the revision it reflects');
  t.deepEqual(atR.device, thenGpu0, 'descriptor, capacity, labels and revisions as they were');
  t.is(atR.device.descriptor.software_version, '1.2.0');
  t.deepEqual(atR.device.capacity, { total: 4, available: 4 });
  t.deepEqual(atR.device.labels, { slot: 'a' });
  t.deepEqual((await get('hosts/h1/devices/gpu1', { as_of_revision: R })).device, thenGpu1, 'removed by a later sync, present then');
  t.deepEqual((await get('hosts/h2/devices/gpu0', { as_of_revision: R })).device, thenH2, 'its host deleted later, present then');
  for (const name of ['hosts/h1/devices/gpu2', 'hosts/h3/devices/gpu0']) {
    const missing = await t.throwsAsync(get(name, { as_of_revision: R }));
    t.is((missing as any)?.code, grpc.status.NOT_FOUND, `${name} was created after R`);
  }

  const times = await revisionTimes(client);
  const betweenR = { as_of_time: toTimestamp(timeBetween(times, R)) };
  const byTime = await get('hosts/h1/devices/gpu0', betweenR);
  t.is(byTime.revision, R, 'a time resolves to the latest revision committed at or before it');
  t.deepEqual(byTime.device, thenGpu0);
  t.deepEqual((await get('hosts/h2/devices/gpu0', betweenR)).device, thenH2);
  const betweenR1 = { as_of_time: toTimestamp(timeBetween(times, r1)) };
  t.is((await get('hosts/h1/devices/gpu0', betweenR1)).revision, r1);
  const before = await t.throwsAsync(get('hosts/h2/devices/gpu0', betweenR1));
  t.is((before as any)?.code, grpc.status.NOT_FOUND, 'h2 did not exist yet at that time');
});

test('ListDevices as of a revision pages through the devices of then, each once, while writes go on; every page reports that revision', async (t) => {
  const { client, raw } = await start(t);
  await client.syncHost(host('a', [device('d0', '1.2.0', { labels: { pool: 'x' } }), device('d1', '1.2.0'), device('d2', '1.3.0')]));
  await client.syncHost(host('a.b', [device('d0', '1.2.0', { labels: { pool: 'x' } })]));
  await client.syncHost(host('b', [device('d0', '1.2.0'), device('d1', '1.4.0', { capacity: { total: 2, available: 2 } })]));
  const R = (await client.syncHost(host('c', [device('d0', '1.2.0', { labels: { pool: 'x' } })]))).revision;
  const then: Device[] = await collect(client.listDevices());
  const thenPoolX: Device[] = await collect(client.listDevices({ labels: { pool: 'x' } }));
  t.is(then.length, 7);
  t.deepEqual(names(thenPoolX), ['hosts/a/devices/d0', 'hosts/a.b/devices/d0', 'hosts/c/devices/d0']);
  await pause();

  // Page by page at R, with writes between the pages: created, changed, deleted devices and hosts.
  const writes = [
    () => client.syncHost(host('a', [device('d0', '1.3.0', { labels: { pool: 'y' } }), device('d2', '1.3.0'), device('d3', '1.2.0')])),
    () => client.deleteHost('hosts/a.b'),
    () => client.syncHost(host('aa', [device('d0', '1.2.0', { labels: { pool: 'x' } })])),
    () => client.deleteHost('hosts/c'),
    () => client.syncHost(host('b', [device('d1', '1.4.0', { capacity: { total: 2, available: 0 } })])),
  ];
  const listAt = async (request: object, between: (() => Promise<unknown>)[] = []) => {
    const devices: Device[] = [];
    const revisions: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = fromResponse<any>('ListDevicesResponse', await unaryCall(raw.registry, 'ListDevices', { ...request, page_size: 2, page_token: token }));
      devices.push(...page.devices);
      revisions.push(page.revision);
      token = page.next_page_token;
      await between[pages++]?.();
    } while (token);
    return { devices, revisions, pages };
  };
  const listed = await listAt({ as_of_revision: R }, writes);
  t.deepEqual(listed.devices, then, 'every device of then, once, in order, as it was');
  t.is(listed.pages, 4);
  t.deepEqual(listed.revisions, listed.revisions.map(() => R), 'every page reports the as_of revision');

  const current = await collect(client.listDevices());
  t.notDeepEqual(names(current), names(then), 'the registry did change meanwhile');
  const filtered = await listAt({ as_of_revision: R, filter: { labels: { pool: 'x' } } });
  t.deepEqual(filtered.devices, thenPoolX, 'label filters apply to the labels of then');
  const ofHost = await unaryCall(raw.registry, 'ListDevices', { as_of_revision: R, filter: { host: 'hosts/c' } });
  t.deepEqual(names(ofHost.devices), ['hosts/c/devices/d0'], 'a host deleted since is listed as it was');

  const times = await revisionTimes(client);
  const byTime = fromResponse<any>('ListDevicesResponse', await unaryCall(raw.registry, 'ListDevices', { as_of_time: toTimestamp(timeBetween(times, R)), page_size: 100 }));
  t.is(byTime.revision, R);
  t.deepEqual(byTime.devices, then);

  // A page token belongs to its point in time.
  const first = await unaryCall(raw.registry, 'ListDevices', { as_of_revision: R, page_size: 2 });
  const mixed = await t.throwsAsync(unaryCall(raw.registry, 'ListDevices', { page_size: 2, page_token: first.next_page_token }));
  t.is((mixed as any)?.code, grpc.status.INVALID_ARGUMENT, 'a token of an as_of listing is refused for a current one');
});

test('as_of after the current revision or with both fields is INVALID_ARGUMENT; before a compaction it is OUT_OF_RANGE with the oldest revision', async (t) => {
  const { client, raw } = await start(t);
  const SRC = 'hosts/src/devices/gpu0';
  const TGT = 'hosts/tgt/devices/gpu0';
  await client.syncHost(host('tgt', [device('gpu0', '1.9.0')]));
  let last = '';
  for (let i = 0; i < 4; i++) {
    last = (await client.syncHost(host('src', [device('gpu0', `1.${i}.0`)]))).revision; // revisions 2 to 5
    await pause();
  }
  const current = Number(last);
  const after = { as_of_revision: String(current + 1) };
  const both = { as_of_revision: '1', as_of_time: toTimestamp(Date.now()) };

  const calls: [string, (asOf: object) => Promise<unknown>][] = [
    ['GetDevice', (asOf) => unaryCall(raw.registry, 'GetDevice', { name: SRC, ...asOf })],
    ['ListDevices', (asOf) => unaryCall(raw.registry, 'ListDevices', { ...asOf })],
    ['CheckCompatibility', (asOf) => unaryCall(raw.compatibility, 'CheckCompatibility', { source: { name: SRC }, target: { name: TGT }, ...asOf })],
    ['FindTargets', (asOf) => findTargetsRaw(raw.compatibility, { source: { name: SRC }, ...asOf })],
  ];
  for (const [method, call] of calls) {
    const future = await rejectsWith(t, call(after), grpc.status.INVALID_ARGUMENT, `${method}: after now`);
    t.true(
      future.fieldViolations.some((v) => v.field === 'as_of_revision'),
      `${method}: names as_of_revision (${JSON.stringify(future.fieldViolations)})`,
    );
    const twice = await rejectsWith(t, call(both), grpc.status.INVALID_ARGUMENT, `${method}: both set`);
    t.true(
      twice.fieldViolations.some((v) => v.field === 'as_of_revision' || v.field === 'as_of_time'),
      `${method}: names an as_of field (${JSON.stringify(twice.fieldViolations)})`,
    );
    await t.notThrowsAsync(call({ as_of_revision: String(current) }), `${method}: as of now is fine`);
  }

  const times = await revisionTimes(client);
  await unaryCall(raw.history, 'CompactHistory', { revision: 3 });
  for (const [method, call] of calls) {
    const gone = await rejectsWith(t, call({ as_of_revision: '2' }), grpc.status.OUT_OF_RANGE, `${method}: compacted`);
    t.is(gone.reason, 'REVISION_COMPACTED', method);
    const oldest = gone.metadata.oldest_revision ?? '';
    t.regex(oldest, /^\d+$/, `${method}: ErrorInfo carries oldest_revision`);
    // The oldest revision reported is one a reader can ask for, and the one before it is not.
    await t.notThrowsAsync(call({ as_of_revision: oldest }), `${method}: as of oldest_revision ${oldest}`);
    await rejectsWith(
      t,
      call({ as_of_revision: String(Number(oldest) - 1) }),
      grpc.status.OUT_OF_RANGE,
      `${method}: before oldest_revision ${oldest}`,
    );
  }
  const byTime = await rejectsWith(
    t,
    unaryCall(raw.registry, 'GetDevice', { name: SRC, as_of_time: toTimestamp(timeBetween(times, '2')) }),
    grpc.status.OUT_OF_RANGE,
    'as of a time before the cut',
  );
  t.is(byTime.reason, 'REVISION_COMPACTED');
  t.truthy(byTime.metadata.oldest_revision);
  const atCut = await unaryCall(raw.registry, 'GetDevice', { name: SRC, as_of_revision: '3' });
  t.is(atCut.device.descriptor.software_version, '1.1.0', 'the state at the cut itself is still answerable');
});

test('FindTargets leaves out devices of UNREACHABLE and DRAINING hosts unless asked, and tells each target its host state', async (t) => {
  // A TTL long enough that the agents that keep renewing never lapse, even in a slow run.
  const { client, raw } = await start(t, { leaseTtlMs: 3000 });
  const SRC = 'hosts/src/devices/gpu0';
  const agents = keepAlive(raw, [], 100);
  const lapsingAgent = keepAlive(raw, [], 100);
  t.teardown(() => agents.stop());
  t.teardown(() => lapsingAgent.stop());
  for (const name of ['src', 'ready', 'lapsing', 'draining']) {
    await client.syncHost(host(name, [device('gpu0', '1.2.0')]));
    (name === 'lapsing' ? lapsingAgent : agents).hosts.add(`hosts/${name}`);
  }
  const drained = await unaryCall(raw.registry, 'SetHostDraining', { name: 'hosts/draining', draining: true });
  t.is(drained.host.state, 'HOST_STATE_DRAINING');
  await lapsingAgent.stop(); // its agent goes away: every keepalive it sent has been answered

  await eventually(async () => (await client.getHost('hosts/lapsing')).state === 'HOST_STATE_UNREACHABLE', 10_000, 'the lease to lapse');
  const [lapse] = await historyOf(client, { resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' });
  t.regex(lapse.reason, /lease expired/);
  t.is((await client.getHost('hosts/ready')).state, 'HOST_STATE_READY', 'kept alive');
  t.is((await client.getHost('hosts/draining')).state, 'HOST_STATE_DRAINING', 'kept alive and draining');

  const find = (extra: object) => findTargetsRaw(raw.compatibility, { source: { name: SRC }, ...extra });
  const states = (outcome: Awaited<ReturnType<typeof find>>) => outcome.targets.map((found) => [found.name, found.host_state]);
  const plain = await find({});
  t.deepEqual(states(plain), [['hosts/ready/devices/gpu0', 'HOST_STATE_READY']]);
  t.is(plain.summary.candidates, 1, 'left-out hosts are not candidates');
  t.deepEqual(states(await find({ include_unreachable_hosts: true })), [
    ['hosts/lapsing/devices/gpu0', 'HOST_STATE_UNREACHABLE'],
    ['hosts/ready/devices/gpu0', 'HOST_STATE_READY'],
  ]);
  t.deepEqual(states(await find({ include_draining_hosts: true })), [
    ['hosts/draining/devices/gpu0', 'HOST_STATE_DRAINING'],
    ['hosts/ready/devices/gpu0', 'HOST_STATE_READY'],
  ]);
  const all = await find({ include_unreachable_hosts: true, include_draining_hosts: true });
  t.deepEqual(states(all), [
    ['hosts/draining/devices/gpu0', 'HOST_STATE_DRAINING'],
    ['hosts/lapsing/devices/gpu0', 'HOST_STATE_UNREACHABLE'],
    ['hosts/ready/devices/gpu0', 'HOST_STATE_READY'],
  ]);
  t.is(all.summary.compatible, 3);
  const rejected = await find({ include_rejected: true });
  t.deepEqual(rejected.rejected, [], 'a left-out host is not a rejected candidate either');

  // As of before the lapse, the lapsing host was READY and offered.
  t.deepEqual(states(await find({ as_of_revision: String(Number(lapse.revision) - 1) })), [
    ['hosts/lapsing/devices/gpu0', 'HOST_STATE_READY'],
    ['hosts/ready/devices/gpu0', 'HOST_STATE_READY'],
  ]);

  // Its agent comes back: a keepalive makes it READY, and it is offered again.
  const back = keepAlive(raw, ['hosts/lapsing'], 100);
  t.teardown(() => back.stop());
  await eventually(async () => (await client.getHost('hosts/lapsing')).state === 'HOST_STATE_READY', 10_000, 'READY again');
  t.deepEqual(states(await find({})), [
    ['hosts/lapsing/devices/gpu0', 'HOST_STATE_READY'],
    ['hosts/ready/devices/gpu0', 'HOST_STATE_READY'],
  ]);
  t.deepEqual([...agents.errors, ...back.errors], [], 'every keepalive renewed a lease');
});

test("FindTargets' summary counts the hosts left out for their state, now and at a past revision", async (t) => {
  const { client } = await start(t);
  await client.syncHost(host('src', [device('gpu0', '1.2.0')]));
  await client.syncHost(host('ready', [device('gpu0', '1.2.0')]));
  await client.syncHost(host('drained', [device('gpu0', '1.2.0')], { zone: 'a' }));
  await client.syncHost(host('elsewhere', [device('gpu0', '1.2.0')], { zone: 'b' }));
  await client.setHostDraining('hosts/drained', true);
  const R = (await client.setHostDraining('hosts/elsewhere', true)).revision;
  await client.setHostDraining('hosts/drained', false);
  await client.setHostDraining('hosts/elsewhere', false);

  const summary = async (options: Parameters<typeof findAll>[3]) => (await findAll(t, client, 'hosts/src/devices/gpu0', options)).summary;
  t.like(await summary({}), { candidates: 3, unreachable_hosts_left_out: 0, draining_hosts_left_out: 0 });
  // At R both were draining: the past view's walk counts them, as the live path would have.
  t.like(await summary({ asOfRevision: R }), { candidates: 1, draining_hosts_left_out: 2 });
  t.like(await summary({ asOfRevision: R, includeRejected: true }), { candidates: 1, draining_hosts_left_out: 2 });
  // A host the request's own filters leave out is not counted as left out for its state.
  t.like(await summary({ asOfRevision: R, hostLabels: { zone: 'a' } }), { candidates: 0, draining_hosts_left_out: 1 });
  t.like(await summary({ asOfRevision: R, excludeHosts: ['drained', 'elsewhere'] }), { candidates: 1, draining_hosts_left_out: 0 });
  t.like(await summary({ asOfRevision: R, includeDrainingHosts: true }), { candidates: 3, draining_hosts_left_out: 0 });
});
