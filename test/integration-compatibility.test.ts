// CheckCompatibility, FindTargets and CheckCompatibilityStream through the client library
// against a real server: the verdicts are the spec's (the conformance vectors, registered on
// the server), FindTargets ranks and filters, and streams clean up when cancelled or done.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { ServerWritableStreamImpl } from '@grpc/grpc-js/build/src/server-call.js';
import type { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import type { DeviceSpec, FindTargetsItem } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import {
  asDescriptor,
  assertVectorResult,
  expectedChecks,
  extraClient,
  findAll,
  gvt,
  loadVectors,
  names,
  rankingCase,
  receivedChecks,
  registerVectors,
  rejectsWith,
  settingsJson,
  valueJson,
  vectorCase,
  vectorDeviceId,
  waitUntil,
} from './helpers/integration.ts';

const fixtures = loadVectors(new URL('./fixtures/compat-vectors.json', import.meta.url));

const sourceName = (i: number) => `hosts/sources/devices/${vectorDeviceId(i)}`;
const targetName = (i: number) => `hosts/targets/devices/${vectorDeviceId(i)}`;

// ---------------------------------------------------------------------------------------
// CheckCompatibility

test('CheckCompatibility by name gives every vector its spec verdict, with every check', async (t) => {
  const { client } = await startTestServer(t);
  await registerVectors(client, fixtures.vectors);
  t.true(fixtures.vectors.length >= 50, 'the fixture holds the conformance vectors');
  for (const [i, c] of fixtures.vectors.entries()) {
    const result = await client.check(sourceName(i), targetName(i));
    assertVectorResult(t, c, result, { revision: '2', source: sourceName(i), target: targetName(i) });
  }
});

test('CheckCompatibility with inline descriptors gives the same verdicts, unnamed', async (t) => {
  const { client } = await startTestServer(t);
  for (const c of fixtures.vectors) {
    const result = await client.check(asDescriptor(c.source), asDescriptor(c.target));
    assertVectorResult(t, c, result, { revision: '0', source: '', target: '' });
  }
});

test('CheckCompatibility mixes a registered source with an inline target (and back)', async (t) => {
  const { client } = await startTestServer(t);
  await registerVectors(client, fixtures.vectors);
  const i = fixtures.vectors.findIndex((c) => c.id === 'pv-B-to-A');
  const c = fixtures.vectors[i];
  assertVectorResult(t, c, await client.check(sourceName(i), asDescriptor(c.target)), {
    revision: '2',
    source: sourceName(i),
    target: '',
  });
  assertVectorResult(t, c, await client.check(asDescriptor(c.source), targetName(i)), {
    revision: '2',
    source: '',
    target: targetName(i),
  });
});

test('CheckCompatibility explains a claimable, a warning and a many-reason verdict', async (t) => {
  const { client } = await startTestServer(t);
  const register = async (host: string, descriptor: unknown) =>
    client.syncHost({ name: host, devices: [{ device_id: '0000:00:02.0', descriptor: descriptor as never }] });

  // CLAIMABLE: the target can be set to the source's aggregator, which the scheduler must do.
  const claim = vectorCase(fixtures, 'agg-claimable');
  await register('src-claim', claim.source);
  await register('dst-claim', claim.target);
  const claimed = await client.check('hosts/src-claim/devices/0000:00:02.0', 'hosts/dst-claim/devices/0000:00:02.0');
  t.is(claimed.verdict, 'VERDICT_COMPATIBLE');
  t.deepEqual(settingsJson(claimed.required_settings), { aggregator: { int_value: '2' } });
  const aggregator = claimed.checks.find((check) => check.attribute === 'aggregator');
  t.deepEqual(receivedChecks(aggregator ? [aggregator] : []), [
    {
      attribute: 'aggregator',
      op: 'COMPARE_OP_CLAIMABLE',
      result: 'CHECK_RESULT_PASS',
      reason: '',
      source_value: { int_value: '2' },
      target_value: { int_value: '1' },
    },
  ]);
  t.is(claimed.revision, '2');

  // warn_only: compatible with a warning that keeps its reason.
  const warn = vectorCase(fixtures, 'qat-compat-newer-src');
  await register('src-warn', warn.source);
  await register('dst-warn', warn.target);
  const warned = await client.check('hosts/src-warn/devices/0000:00:02.0', 'hosts/dst-warn/devices/0000:00:02.0');
  t.is(warned.verdict, 'VERDICT_COMPATIBLE_WITH_WARNINGS');
  t.deepEqual(
    warned.checks.filter((check) => check.result !== 'CHECK_RESULT_PASS').map((check) => [check.attribute, check.result, check.reason]),
    [['compat_ver', 'CHECK_RESULT_WARN', 'VERSION_LOWER']],
  );
  t.is(warned.revision, '4');

  // No short circuit: every failing built-in is listed with both values.
  const many = vectorCase(fixtures, 'api-vendor-type-differ');
  await register('src-many', many.source);
  await register('dst-many', many.target);
  const refused = await client.check('hosts/src-many/devices/0000:00:02.0', 'hosts/dst-many/devices/0000:00:02.0');
  t.is(refused.verdict, 'VERDICT_INCOMPATIBLE');
  t.deepEqual(
    receivedChecks(refused.checks).filter((check) => check.result === 'CHECK_RESULT_FAIL'),
    [
      {
        attribute: 'vendor',
        op: 'COMPARE_OP_EQUAL',
        result: 'CHECK_RESULT_FAIL',
        reason: 'VENDOR_MISMATCH',
        source_value: { string_value: '8086' },
        target_value: { string_value: 'ibm' },
      },
      {
        attribute: 'device_api',
        op: 'COMPARE_OP_EQUAL',
        result: 'CHECK_RESULT_FAIL',
        reason: 'DEVICE_API_MISMATCH',
        source_value: { string_value: 'vfio-pci' },
        target_value: { string_value: 'vfio-ccw' },
      },
      {
        attribute: 'type',
        op: 'COMPARE_OP_EQUAL',
        result: 'CHECK_RESULT_FAIL',
        reason: 'TYPE_MISMATCH',
        source_value: { string_value: 'i915-GVTg_V5_4' },
        target_value: { string_value: 'vfio_ccw-io' },
      },
    ],
  );
  t.deepEqual(settingsJson(refused.required_settings), {});
  t.is(refused.revision, '6');
  t.is(refused.engine.model, 'compat-model/1');
});

test('CheckCompatibility judges registered devices by their current descriptor', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({ name: 'a', devices: [{ device_id: 'gpu0', descriptor: gvt('1.3.0') }] });
  await client.syncHost({ name: 'b', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  const before = await client.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0');
  t.is(before.verdict, 'VERDICT_INCOMPATIBLE');
  t.is(before.revision, '2');
  // The target's driver is upgraded: the same question now has the other answer.
  await client.syncHost({ name: 'b', devices: [{ device_id: 'gpu0', descriptor: gvt('1.4.0') }] });
  const after = await client.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0');
  t.is(after.verdict, 'VERDICT_COMPATIBLE');
  t.is(after.revision, '3');
  t.deepEqual(valueJson(after.checks.find((c) => c.attribute === 'software_version')!.target_value), {
    version_value: '1.4.0',
  });
});

// ---------------------------------------------------------------------------------------
// FindTargets: the ranking vectors

test('FindTargets streams every ranking vector\'s targets in the expected order', async (t) => {
  const { client } = await startTestServer(t);
  // All rankings at once, grouped by host: each source must find its own targets only.
  const byHost = new Map<string, DeviceSpec[]>();
  for (const ranking of fixtures.rankings) {
    for (const target of ranking.targets) {
      const [, host, , device] = target.name.split('/');
      const specs = byHost.get(host) ?? [];
      specs.push({ device_id: device, descriptor: asDescriptor(target.descriptor), ...(target.capacity && { capacity: target.capacity }) });
      byHost.set(host, specs);
    }
  }
  for (const [host, devices] of byHost) await client.syncHost({ name: host, devices });
  const revision = String(byHost.size);
  const totalDevices = fixtures.rankings.reduce((n, r) => n + r.targets.length, 0);
  t.true(totalDevices > Math.max(...fixtures.rankings.map((r) => r.targets.length)), 'rankings share the registry');

  for (const ranking of fixtures.rankings) {
    const found = await findAll(t, client, asDescriptor(ranking.source), { includeRejected: true });
    t.deepEqual(names(found.targets), ranking.expect_order, `${ranking.id}: order`);
    t.deepEqual(found.rejected, [], `${ranking.id}: nothing rejected`);
    t.deepEqual(
      found.summary,
      {
        revision,
        candidates: ranking.targets.length,
        compatible: ranking.targets.length,
        rejected: 0,
        distinct_descriptors: new Set(ranking.targets.map((x) => JSON.stringify(x.descriptor))).size,
        unreachable_hosts_left_out: 0,
        draining_hosts_left_out: 0,
      },
      `${ranking.id}: summary`,
    );
    for (const target of found.targets) {
      const spec = ranking.targets.find((x) => x.name === target.name)!;
      t.deepEqual(target.capacity, spec.capacity ?? null, `${target.name}: capacity`);
      t.is(target.result.revision, revision);
      t.is(target.result.source, '', 'an inline source has no name');
      t.is(target.result.target, target.name);
    }
  }

  const gvtRanking = await findAll(t, client, asDescriptor(rankingCase(fixtures, 'rank-gvt').source));
  t.deepEqual(
    gvtRanking.targets.map((x) => [x.name, x.exact, x.result.verdict]),
    [
      ['hosts/e4/devices/0000:00:02.0', true, 'VERDICT_COMPATIBLE'],
      ['hosts/d9/devices/0000:00:02.0', false, 'VERDICT_COMPATIBLE'],
      ['hosts/c2/devices/0000:00:02.0', false, 'VERDICT_COMPATIBLE'],
      ['hosts/b7/devices/0000:00:02.0', false, 'VERDICT_COMPATIBLE'],
      ['hosts/a1/devices/0000:00:02.0', false, 'VERDICT_COMPATIBLE_WITH_WARNINGS'],
    ],
  );
  const ownType = await findAll(t, client, asDescriptor(rankingCase(fixtures, 'rank-own-type-first').source));
  t.deepEqual(
    ownType.targets.map((x) => [x.name, x.exact]),
    [
      ['hosts/z/devices/0000:00:02.0', true],
      ['hosts/a/devices/0000:00:02.0', false],
    ],
    'a target that lists the source type in compatible_types is found, after the exact one',
  );
});

// ---------------------------------------------------------------------------------------
// FindTargets: filters, limits, rejected candidates

/**
 * A small fleet around one GVT-g source (`src`, v1.2.0):
 * - h1 exact match, 2 free; zone a, rack r1
 * - h2 newer minor (1.3.0), none free; zone b
 * - h3 two incompatible devices: a minor downgrade (4 free) and a new major without the
 *   source's pci id (capacity unknown); zone a
 * - h4 another type that accepts the source's type, 8 free; zone b
 * - h5 another vendor and another type: never candidates; zone a
 */
async function fleet(t: Parameters<typeof startTestServer>[0]) {
  const testServer = await startTestServer(t);
  const { client } = testServer;
  const slot = '0000:00:02.0';
  await client.syncHost({ name: 'src', labels: { zone: 'a' }, devices: [{ device_id: slot, descriptor: gvt('1.2.0') }] });
  await client.syncHost({
    name: 'h1',
    labels: { zone: 'a', rack: 'r1' },
    devices: [{ device_id: slot, descriptor: gvt('1.2.0'), capacity: { total: 4, available: 2 } }],
  });
  await client.syncHost({
    name: 'h2',
    labels: { zone: 'b' },
    devices: [{ device_id: slot, descriptor: gvt('1.3.0'), capacity: { total: 4, available: 0 } }],
  });
  await client.syncHost({
    name: 'h3',
    labels: { zone: 'a' },
    devices: [
      { device_id: slot, descriptor: gvt('1.1.0'), capacity: { total: 4, available: 4 } },
      {
        device_id: '0000:00:03.0',
        descriptor: gvt('2.0.0', {
          attributes: { pci_ids: { set_value: { values: ['3e92'] } }, low_gm_mb: { int_value: 128 } },
        }),
      },
    ],
  });
  await client.syncHost({
    name: 'h4',
    labels: { zone: 'b' },
    devices: [
      {
        device_id: slot,
        descriptor: gvt('1.2.0', { type: 'i915-GVTg_V5_8', compatible_types: ['i915-GVTg_V5_4'] }),
        capacity: { total: 8, available: 8 },
      },
    ],
  });
  await client.syncHost({
    name: 'h5',
    labels: { zone: 'a' },
    devices: [
      { device_id: slot, descriptor: gvt('1.2.0', { vendor: '10de' }), capacity: { total: 8, available: 8 } },
      { device_id: '0000:00:04.0', descriptor: gvt('1.2.0', { type: 'i915-GVTg_V5_1' }), capacity: { total: 8, available: 8 } },
    ],
  });
  const d = (host: string, device = slot) => `hosts/${host}/devices/${device}`;
  return { ...testServer, source: d('src'), d, revision: '6' };
}

test('FindTargets ranks compatible targets, then lists rejected ones with their reasons', async (t) => {
  const { client, source, d, revision } = await fleet(t);
  const found = await findAll(t, client, source, { includeRejected: true });
  // Exact first; then the compatible type at distance 0 before the newer minor.
  t.deepEqual(names(found.targets), [d('h1'), d('h4'), d('h2')]);
  t.deepEqual(
    found.targets.map((x) => x.exact),
    [true, false, false],
  );
  t.deepEqual(found.targets[0].capacity, { total: 4, available: 2 });
  // The nearest miss first: one failed check, then two.
  t.deepEqual(names(found.rejected), [d('h3'), d('h3', '0000:00:03.0')]);
  t.deepEqual(
    found.rejected.map((x) =>
      x.result.checks.filter((c) => c.result === 'CHECK_RESULT_FAIL').map((c) => [c.attribute, c.reason]),
    ),
    [
      [['software_version', 'MINOR_VERSION_DOWNGRADE']],
      [
        ['software_version', 'MAJOR_VERSION_MISMATCH'],
        ['pci_ids', 'NOT_SUPERSET'],
      ],
    ],
  );
  t.is(found.rejected[1].capacity, null, 'unknown capacity is absent');
  t.deepEqual(found.summary, { revision, candidates: 5, compatible: 3, rejected: 2, distinct_descriptors: 5, unreachable_hosts_left_out: 0, draining_hosts_left_out: 0 });
  for (const target of [...found.targets, ...found.rejected]) {
    t.is(target.result.source, source);
    t.is(target.result.target, target.name);
    t.is(target.result.revision, revision);
    t.is(target.result.engine.model, 'compat-model/1');
  }
});

test('FindTargets leaves out the source\'s own host unless asked, and an inline source has none', async (t) => {
  const { client, source, d } = await fleet(t);
  const byDefault = await findAll(t, client, source);
  t.false(names(byDefault.targets).includes(source));
  t.is(byDefault.summary.candidates, 5);

  const withOwnHost = await findAll(t, client, source, { includeSourceHost: true });
  // The source itself is an exact match with unknown capacity: after h1 (2 free).
  t.deepEqual(names(withOwnHost.targets), [d('h1'), source, d('h4'), d('h2')]);
  t.is(withOwnHost.targets[1].capacity, null);
  t.deepEqual(withOwnHost.summary, { ...byDefault.summary, candidates: 6, compatible: 4 });

  const inline = await findAll(t, client, gvt('1.2.0'));
  t.deepEqual(names(inline.targets), [d('h1'), source, d('h4'), d('h2')]);
  t.is(inline.targets[0].result.source, '');
});

test('FindTargets filters by excluded hosts, host labels and free capacity', async (t) => {
  const { client, source, d } = await fleet(t);

  const excluded = await findAll(t, client, source, { excludeHosts: ['hosts/h1', 'h4'], includeRejected: true });
  t.deepEqual(names(excluded.targets), [d('h2')]);
  t.deepEqual(names(excluded.rejected), [d('h3'), d('h3', '0000:00:03.0')]);
  t.like(excluded.summary, { candidates: 3, compatible: 1, rejected: 2 });

  const zoneA = await findAll(t, client, source, { hostLabels: { zone: 'a' }, includeRejected: true });
  t.deepEqual(names(zoneA.targets), [d('h1')]);
  t.deepEqual(names(zoneA.rejected), [d('h3'), d('h3', '0000:00:03.0')]);
  t.like(zoneA.summary, { candidates: 3, compatible: 1, rejected: 2 });

  const rack = await findAll(t, client, source, { hostLabels: { zone: 'a', rack: 'r1' } });
  t.deepEqual(names(rack.targets), [d('h1')]);
  t.like(rack.summary, { candidates: 1, compatible: 1, rejected: 0 });

  const nowhere = await findAll(t, client, source, { hostLabels: { zone: 'c' }, includeRejected: true });
  t.deepEqual([...nowhere.targets, ...nowhere.rejected], []);
  t.like(nowhere.summary, { candidates: 0, compatible: 0, rejected: 0 });

  // h2 has none free and h3's second device an unknown capacity: both are left out.
  const available = await findAll(t, client, source, { requireAvailable: true, includeRejected: true });
  t.deepEqual(names(available.targets), [d('h1'), d('h4')]);
  t.deepEqual(names(available.rejected), [d('h3')]);
  t.like(available.summary, { candidates: 3, compatible: 2, rejected: 1 });
});

test('FindTargets limits what it streams but counts every candidate', async (t) => {
  const { client, source, d } = await fleet(t);
  const one = await findAll(t, client, source, { limit: 1 });
  t.deepEqual(names(one.targets), [d('h1')]);
  t.like(one.summary, { candidates: 5, compatible: 3, rejected: 2 });

  const two = await findAll(t, client, source, { limit: 2, includeRejected: true, rejectedLimit: 1 });
  t.deepEqual(names(two.targets), [d('h1'), d('h4')]);
  t.deepEqual(names(two.rejected), [d('h3')], 'the nearest miss');
  t.like(two.summary, { candidates: 5, compatible: 3, rejected: 2 });

  const noRejected = await findAll(t, client, source);
  t.deepEqual(noRejected.rejected, [], 'rejected candidates only on request');
  t.like(noRejected.summary, { rejected: 2 });
});

test('FindTargets never offers devices of another vendor or type, and follows deletions', async (t) => {
  const { client, source, d } = await fleet(t);
  const all = await findAll(t, client, source, { includeRejected: true, includeSourceHost: true });
  const offered = new Set(names([...all.targets, ...all.rejected]));
  t.false(offered.has(d('h5')), 'another vendor');
  t.false(offered.has(d('h5', '0000:00:04.0')), 'another type that does not accept the source type');
  t.true(offered.has(d('h4')), 'another type that lists the source type in compatible_types');
  t.is(offered.size, all.summary.candidates);

  await client.syncHost({ name: 'h1', labels: { zone: 'a', rack: 'r1' }, devices: [] });
  await client.deleteHost('hosts/h4');
  const after = await findAll(t, client, source, { includeRejected: true });
  t.deepEqual(names(after.targets), [d('h2')]);
  t.like(after.summary, { revision: '8', candidates: 3, compatible: 1, rejected: 2 });
});

// ---------------------------------------------------------------------------------------
// FindTargets: streams end, and a cancelled one stops

/**
 * Counts the messages the server's FindTargets handlers write (server-streaming calls are
 * grpc-js ServerWritableStreamImpl), for one serial test; undone at teardown.
 */
/** Counts the messages server streams write, and those refused for now (write() returned false: the server must wait). */
function countServerStreamWrites(t: ExecutionContext): { (): number; refused(): number } {
  const prototype = ServerWritableStreamImpl.prototype as unknown as { write: Writable['write'] };
  const write = prototype.write;
  let writes = 0;
  let refused = 0;
  prototype.write = function (this: Writable, ...args: Parameters<Writable['write']>) {
    writes++;
    const accepted = write.apply(this, args);
    if (!accepted) refused++;
    return accepted;
  } as Writable['write'];
  t.teardown(() => {
    delete (prototype as { write?: unknown }).write;
  });
  return Object.assign(() => writes, { refused: () => refused });
}

test.serial('a cancelled FindTargets stops the server\'s work and leaves no stream open', async (t) => {
  const { client, server } = await startTestServer(t);
  const hosts = 3;
  const perHost = 1000;
  for (let h = 0; h < hosts; h++) {
    const devices = Array.from({ length: perHost }, (_, i) => ({
      device_id: `vf${String(i).padStart(4, '0')}`,
      descriptor: gvt('1.2.0'),
      capacity: { total: 1, available: 1 },
    }));
    await client.syncHost({ name: `bulk-${h}`, devices });
  }
  const wouldSend = hosts * perHost + 1; // every target, then the summary

  // Count the messages that actually reach this client, below the library's iterator.
  let received = 0;
  const counting: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(
      nextCall(options),
      new grpc.RequesterBuilder()
        .withStart((metadata, _listener, next) => {
          next(
            metadata,
            new grpc.ListenerBuilder()
              .withOnReceiveMessage((message, proceed) => {
                received++;
                proceed(message);
              })
              .build(),
          );
        })
        .build(),
    );
  const counted = extraClient(t, server.address, { channelOptions: { interceptors: [counting] } });
  const serverWrites = countServerStreamWrites(t);

  const first: FindTargetsItem[] = [];
  for await (const item of counted.findTargets(gvt('1.2.0'), { limit: 10_000 })) {
    first.push(item);
    // The client is not reading: the server must wait (backpressure), not finish.
    t.true(await waitUntil(() => serverWrites.refused() > 0, 10_000), 'the server was told to wait');
    t.is(server.openStreams(), 1, 'the stream is still open while the client is not reading');
    break; // cancels the call
  }
  t.is(first.length, 1);
  t.true('target' in first[0]);
  t.true(await waitUntil(() => server.openStreams() === 0, 2000), 'the server forgets a cancelled stream');
  const writtenAtCancel = serverWrites();
  t.true(writtenAtCancel < wouldSend / 2, `the server stopped early: it wrote ${writtenAtCancel} of ${wouldSend} messages`);
  t.true(received < writtenAtCancel, `fewer messages reached the client (${received}) than the server wrote`);
  t.true(received < wouldSend, `received ${received} of ${wouldSend} messages`);

  // The server is fine afterwards, and a stream read to its end leaves nothing behind. Until
  // that stream is done, only its own 11 messages (10 targets, the summary) were written:
  // nothing more of the cancelled one.
  const found = await findAll(t, client, gvt('1.2.0'), { limit: 10 });
  t.is(serverWrites(), writtenAtCancel + 11, 'nothing is written after the cancellation');
  t.is(found.targets.length, 10);
  t.like(found.summary, { candidates: 3000, compatible: 3000 });
  t.true(await waitUntil(() => server.openStreams() === 0, 2000), 'a finished stream is forgotten');
});

test('finished, failed and batch-check streams leave no open stream behind', async (t) => {
  const { client, server } = await startTestServer(t);
  await client.syncHost({ name: 'a', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  await client.syncHost({ name: 'b', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  t.is(server.openStreams(), 0);

  const found = await findAll(t, client, 'hosts/a/devices/gpu0');
  t.deepEqual(names(found.targets), ['hosts/b/devices/gpu0']);
  t.true(await waitUntil(() => server.openStreams() === 0), 'a finished FindTargets is forgotten');

  const failing = client.findTargets('hosts/a/devices/missing');
  await rejectsWith(t, (async () => { for await (const _ of failing) { /* drain */ } })(), grpc.status.NOT_FOUND);
  t.true(await waitUntil(() => server.openStreams() === 0), 'a failed FindTargets is forgotten');

  const stream = client.checkStream();
  const result = await stream.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0');
  t.is(result.verdict, 'VERDICT_COMPATIBLE');
  t.is(server.openStreams(), 1, 'an open batch-check stream is counted');
  await stream.close();
  t.true(await waitUntil(() => server.openStreams() === 0), 'a closed batch-check stream is forgotten');
});

// ---------------------------------------------------------------------------------------
// CheckCompatibilityStream

test('checkMany judges every vector on one stream, by name and inline, each result under its id', async (t) => {
  const { client } = await startTestServer(t);
  await registerVectors(client, fixtures.vectors);
  const items = fixtures.vectors.flatMap((c, i) => [
    { id: `name:${c.id}`, source: sourceName(i), target: targetName(i) },
    { id: `inline:${c.id}`, source: asDescriptor(c.source), target: asDescriptor(c.target) },
  ]);
  // Reversed, so that a result matched by position instead of by id would be caught.
  items.reverse();
  const results = await client.checkMany(items, { maxBatch: 25 });
  t.deepEqual(
    results.map((r) => r.id),
    items.map((item) => item.id),
  );
  for (const [i, c] of fixtures.vectors.entries()) {
    const byName = results.find((r) => r.id === `name:${c.id}`)!;
    const inline = results.find((r) => r.id === `inline:${c.id}`)!;
    t.is(byName.error, undefined, `${c.id}: ${byName.error?.message}`);
    t.is(inline.error, undefined, `${c.id}: ${inline.error?.message}`);
    assertVectorResult(t, c, byName.result!, { revision: '2', source: sourceName(i), target: targetName(i) });
    assertVectorResult(t, c, inline.result!, { revision: '2', source: '', target: '' });
  }
});

test('checkStream: a failing item gets its own error; the rest of the message and later ones succeed', async (t) => {
  const { client, server } = await startTestServer(t);
  await client.syncHost({ name: 'a', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  await client.syncHost({ name: 'b', devices: [{ device_id: 'gpu0', descriptor: gvt('1.3.0') }] });
  const a = 'hosts/a/devices/gpu0';
  const b = 'hosts/b/devices/gpu0';
  const invalid = { ...gvt('1.2'), vendor: '' };

  const stream = client.checkStream();
  // Submitted in one tick: one message with five checks.
  const [up, missing, bad, malformed, down] = await Promise.all([
    stream.submit({ id: 'up', source: a, target: b }),
    stream.submit({ id: 'missing', source: a, target: 'hosts/b/devices/gpu9' }),
    stream.submit({ id: 'bad', source: invalid, target: b }),
    stream.submit({ id: 'malformed', source: a, target: 'hosts/b/gpu0' }),
    stream.submit({ id: 'down', source: b, target: a }),
  ]);
  t.is(up.id, 'up');
  t.is(up.result?.verdict, 'VERDICT_COMPATIBLE');
  t.is(up.result?.target, b);
  t.is(down.id, 'down');
  t.is(down.result?.verdict, 'VERDICT_INCOMPATIBLE');
  t.deepEqual(
    down.result?.checks.filter((c) => c.result === 'CHECK_RESULT_FAIL').map((c) => c.reason),
    ['MINOR_VERSION_DOWNGRADE'],
  );

  t.is(missing.id, 'missing');
  t.is(missing.result, undefined);
  t.is(missing.error?.code, grpc.status.NOT_FOUND);
  t.is(missing.error?.reason, 'NOT_FOUND');
  t.regex(missing.error?.message ?? '', /hosts\/b\/devices\/gpu9/);

  t.is(bad.id, 'bad');
  t.is(bad.error?.code, grpc.status.INVALID_ARGUMENT);
  t.is(bad.error?.reason, 'INVALID_ARGUMENT');
  t.deepEqual(
    (bad.error?.fieldViolations ?? []).map((v) => v.field).sort(),
    ['checks[2].source.descriptor.software_version', 'checks[2].source.descriptor.vendor'],
  );

  t.is(malformed.error?.code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual(
    (malformed.error?.fieldViolations ?? []).map((v) => v.field),
    ['checks[3].target.name'],
  );

  // Later messages on the same stream still work, and check() turns an item error into a throw.
  const again = await stream.check(b, b);
  t.is(again.verdict, 'VERDICT_COMPATIBLE');
  await rejectsWith(t, stream.check(a, 'hosts/nowhere/devices/gpu0'), grpc.status.NOT_FOUND);
  const last = await stream.submit({ id: 'last', source: gvt('1.2.5'), target: a });
  t.is(last.result?.verdict, 'VERDICT_COMPATIBLE');
  t.is(last.result?.revision, '2');
  await stream.close();
  t.true(await waitUntil(() => server.openStreams() === 0));
});

test('checkStream carries many messages on one stream and routes every result by id', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({
    name: 'fleet',
    devices: ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '2.0.0'].map((version, i) => ({
      device_id: `gpu${i}`,
      descriptor: gvt(version),
    })),
  });
  const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '2.0.0'];
  const stream = client.checkStream({ maxBatch: 100 });
  const pending = [];
  // 25 pairs x 50 rounds = 1250 checks: many messages, in several ticks.
  for (let round = 0; round < 50; round++) {
    for (let s = 0; s < 5; s++) {
      for (let d = 0; d < 5; d++) {
        pending.push(
          stream.submit({ id: `${round}:${s}->${d}`, source: `hosts/fleet/devices/gpu${s}`, target: `hosts/fleet/devices/gpu${d}` }),
        );
      }
    }
    if (round % 10 === 0) await new Promise((resolve) => setImmediate(resolve)); // the next tick
  }
  const results = await Promise.all(pending);
  await stream.close();
  t.is(results.length, 1250);
  for (const result of results) {
    const [, s, d] = /^\d+:(\d)->(\d)$/.exec(result.id)!.map(Number);
    const [source, target] = [versions[s], versions[d]];
    const sameMajor = source[0] === target[0];
    const compatible = sameMajor && Number(target.split('.')[1]) >= Number(source.split('.')[1]);
    t.is(result.result?.verdict, compatible ? 'VERDICT_COMPATIBLE' : 'VERDICT_INCOMPATIBLE', result.id);
    t.is(result.result?.source, `hosts/fleet/devices/gpu${s}`);
    t.is(result.result?.target, `hosts/fleet/devices/gpu${d}`);
  }
});

test('expectedChecks covers every vector (the oracle of these tests is not empty)', (t) => {
  for (const c of fixtures.vectors) {
    const checks = expectedChecks(c);
    t.true(checks.length >= 4, c.id);
    const failed = checks.filter((check) => check.result === 'CHECK_RESULT_FAIL').length;
    t.is(failed, c.expect.failures.length, `${c.id}: every expected failure names a check`);
    const warned = checks.filter((check) => check.result === 'CHECK_RESULT_WARN').length;
    t.is(warned, c.expect.warnings.length, `${c.id}: every expected warning names a check`);
  }
});

test('a check stream asked of a closed client fails as its other calls do, and opens no connection', async (t) => {
  const { client } = await startTestServer(t);
  const pair = { source: asDescriptor(fixtures.vectors[0].source), target: asDescriptor(fixtures.vectors[0].target) };
  client.close();
  const unary = await t.throwsAsync(client.check(pair.source, pair.target));
  const streamed = await t.throwsAsync(async () => client.checkMany([pair]));
  t.regex(unary!.message, /shut down|closed/i);
  t.regex(streamed!.message, /shut down|closed/i);
  // No second connection was opened for the stream.
  t.is((client as unknown as { checkStreamService: unknown }).checkStreamService, undefined);
});
