// The store contract: what every RegistryStore must do, run against each implementation — the
// SQLite store as the server uses it (in its worker thread, on a temp file) and the in-memory
// store the core's unit tests use; a PostgreSQL store is added to STORES and must pass the
// same. The rule that calls answer in the order they are made (the core relies on it: a read
// made after a commit sees it) is tested here, as is atomicity (a refused batch changes
// nothing) and the history chain (the same writes give the same heads in every store).

import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { claimEntryId, historyQuery, StaleBatchError, type ClaimRecord, type CommitBatch, type DeviceRecord, type HistoryQuery, type HistoryRecord, type HostRecord, type RegistryStore, type ServedStore } from '../server/core/store.ts';
import { EMPTY_BATCH } from '../server/core/write-planning.ts';
import { GENESIS_HASH } from '../server/store/history-chain.ts';
import { MemoryStore, SharedMemory } from '../server/store/memory-store.ts';
import { sqliteStore, WorkerStore } from '../server/store/worker-store.ts';
import { tempDir } from './helpers/server.ts';
import { PostgresStore } from '../server/store/postgres-store.ts';
import { TEST_POSTGRES, testDatabase } from './helpers/postgres.ts';

interface StoreUnderTest {
  readonly name: string;
  open(t: ExecutionContext): Promise<RegistryStore>;
}

const STORES: readonly StoreUnderTest[] = [
  { name: 'memory', open: async () => new MemoryStore() },
  {
    name: 'sqlite',
    async open(t) {
      const store = await WorkerStore.open({ path: path.join(tempDir(t), 'contract.db'), durability: 'relaxed' });
      t.teardown(() => store.close());
      return store;
    },
  },
  // Under `npm run test:postgres` only (it starts the cluster): the same contract on PostgreSQL.
  ...(TEST_POSTGRES
    ? [
        {
          name: 'postgres',
          async open(t: ExecutionContext) {
            const store = await PostgresStore.open({ url: await testDatabase(t) });
            t.teardown(() => store.close());
            return store;
          },
        },
      ]
    : []),
];

const T0 = 1_700_000_000_000;
const DESCRIPTOR_KEY = JSON.stringify({ vendor: 'v', device_api: 'vfio-pci', type: 't', software_version: '1.0.0' });

function hostRecord(hostId: string, revision: number, extra: Partial<HostRecord> = {}): HostRecord {
  const time = T0 + revision * 1000;
  return {
    hostId,
    labels: { rack: 'r1' },
    revision,
    createRevision: revision,
    createTime: time,
    updateTime: time,
    lastSyncTime: time,
    reachable: true,
    draining: false,
    ...extra,
  };
}

function deviceRecord(hostId: string, deviceId: string, revision: number, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  const time = T0 + revision * 1000;
  return {
    hostId,
    deviceId,
    descriptorId: 1,
    capacity: { total: 4, available: 2 },
    labels: { slot: deviceId },
    revision,
    createRevision: revision,
    createTime: time,
    updateTime: time,
    ...extra,
  };
}

function entry(revision: number, seq: number, hostId: string, deviceId: string, rest: Partial<HistoryRecord>): HistoryRecord {
  return {
    revision,
    seq,
    time: T0 + revision * 1000,
    hostId,
    deviceId,
    change: 'CREATED',
    actor: 'alice',
    reason: '',
    before: undefined,
    after: undefined,
    ...rest,
  };
}

function batch(parts: Partial<CommitBatch>): CommitBatch {
  return { ...EMPTY_BATCH, ...parts };
}

/** Revision r creates host `h{r}` with one device; the first also stores the descriptor. */
function createHost(revision: number, actor = 'alice'): CommitBatch {
  const hostId = `h${revision}`;
  const host = hostRecord(hostId, revision);
  const device = deviceRecord(hostId, 'd0', revision);
  return batch({
    newDescriptors: revision === 1 ? [{ id: 1, key: DESCRIPTOR_KEY }] : [],
    hostUpserts: [host],
    deviceUpserts: [device],
    history: [
      entry(revision, 0, hostId, '', { actor, after: { kind: 'host', host } }),
      entry(revision, 1, hostId, 'd0', { actor, after: { kind: 'device', device } }),
    ],
  });
}

/** Revision r changes the device of host `h{host}` (its free capacity). */
function updateDevice(revision: number, host: number, available: number): CommitBatch {
  const hostId = `h${host}`;
  const before = deviceRecord(hostId, 'd0', host);
  const after = deviceRecord(hostId, 'd0', revision, { capacity: { total: 4, available }, createRevision: host, createTime: before.createTime });
  return batch({
    deviceUpserts: [after],
    hostUpserts: [hostRecord(hostId, revision, { createRevision: host, createTime: T0 + host * 1000 })],
    history: [entry(revision, 0, hostId, 'd0', { change: 'UPDATED', actor: 'bob', before: { kind: 'device', device: before }, after: { kind: 'device', device: after } })],
  });
}

const HISTORY_QUERY: HistoryQuery = historyQuery({ limit: 1000 });

const at = (records: readonly HistoryRecord[]) => records.map((r) => `${r.revision}/${r.seq}`);

for (const impl of STORES) {
  const contract = (title: string, body: (t: ExecutionContext, store: RegistryStore) => Promise<void>) =>
    test(`${impl.name}: ${title}`, async (t) => body(t, await impl.open(t)));

  contract('an empty store loads as revision 0 at the genesis head', async (t, store) => {
    const loaded = await store.load();
    t.like(loaded, { revision: 0, revisionTime: 0, headHash: GENESIS_HASH, checkpoint: { revision: 0, hash: GENESIS_HASH } });
    t.deepEqual([loaded.descriptors, loaded.hosts, loaded.devices, [...loaded.leaseExpiries]], [[], [], [], []]);
  });

  contract('what a commit writes is loaded back; an update keeps the create columns', async (t, store) => {
    const first = await store.commit(createHost(1));
    await store.commit(createHost(2));
    await store.commit(updateDevice(3, 1, 0));
    await store.commit(batch({ leases: [{ hostId: 'h2', expireTime: T0 + 99_000 }], syncTouches: [{ hostId: 'h1', lastSyncTime: T0 + 50_000 }] }));
    const loaded = await store.load();
    t.is(loaded.revision, 3);
    t.is(loaded.revisionTime, T0 + 3000);
    t.deepEqual(loaded.descriptors, [{ id: 1, key: DESCRIPTOR_KEY }]);
    t.deepEqual(loaded.hosts, [
      hostRecord('h1', 3, { createRevision: 1, createTime: T0 + 1000, lastSyncTime: T0 + 50_000 }),
      hostRecord('h2', 2),
    ]);
    t.deepEqual(loaded.devices, [
      deviceRecord('h1', 'd0', 3, { capacity: { total: 4, available: 0 }, createRevision: 1, createTime: T0 + 1000 }),
      deviceRecord('h2', 'd0', 2),
    ]);
    t.deepEqual([...loaded.leaseExpiries], [['h2', T0 + 99_000]]);
    t.is(first.heads.length, 1);
    t.not(loaded.headHash, first.heads[0].hash, 'the head moved with each revision');
  });

  // SQLite's load reads each host's devices as one JSON text (sqlite-device-load.ts): values that
  // JSON encoding could bend come back as written, in host then device order, whatever order
  // they were committed in.
  contract('a load gives back awkward device values exactly, ordered by host and device', async (t, store) => {
    const odd = [
      deviceRecord('h2', 'z"quote', 1, { capacity: undefined, labels: {} }),
      deviceRecord('h1', '0000:af:00.7', 1, { labels: { 'ключ': 'значение \u2028 "q" \\ /', emoji: '🦀', empty: '' } }),
      deviceRecord('h2', 'a\\back', 1, { capacity: { total: 0, available: 0 }, createTime: 8_640_000_000_000_000, updateTime: 1 }),
      deviceRecord('h1', '0000:af:00.10', 1, { capacity: { total: 2 ** 40, available: 2 ** 40 - 1 }, revision: 1 }),
      deviceRecord('h2', 'é', 1, { labels: { slot: 'é' } }),
    ];
    const hosts = [hostRecord('h2', 1), hostRecord('h1', 1)];
    await store.commit(
      batch({
        newDescriptors: [{ id: 1, key: DESCRIPTOR_KEY }],
        hostUpserts: hosts,
        deviceUpserts: odd,
        history: [...hosts, ...odd].map((resource, seq) =>
          'deviceId' in resource
            ? entry(1, seq, resource.hostId, resource.deviceId, { after: { kind: 'device', device: resource } })
            : entry(1, seq, resource.hostId, '', { after: { kind: 'host', host: resource } }),
        ),
      }),
    );
    const byKey = (a: DeviceRecord, b: DeviceRecord) =>
      a.hostId === b.hostId ? (a.deviceId < b.deviceId ? -1 : 1) : a.hostId < b.hostId ? -1 : 1;
    const loaded = (await store.load()).devices;
    t.deepEqual([...loaded].sort(byKey), [...odd].sort(byKey));
    // SQLite orders ids bytewise (UTF-8, as JS compares these); PostgreSQL by its collation.
    if (impl.name === 'sqlite') t.deepEqual(loaded.map((d) => `${d.hostId}/${d.deviceId}`), [...odd].sort(byKey).map((d) => `${d.hostId}/${d.deviceId}`));
  });

  // SQLite's load reads the hosts, with their lease expiries, as one JSON text
  // (sqlite-host-load.ts): labels, budgets, flags and times come back as written, in host order,
  // and a lease expiry only for the hosts that have one.
  contract('a load gives back awkward host values exactly, ordered by host, with the lease expiries stored', async (t, store) => {
    const budget = { budgetId: 'b"1', parent: '0000:af:00.0', total: 7, available: 3, consumption: new Map([['vf\\1', 2], ['é', 1]]) };
    const odd = [
      hostRecord('h2', 1, { labels: { 'ключ': 'значение \u2028 "q" \\ /', emoji: '🦀', empty: '' }, reachable: false, draining: true }),
      hostRecord('a"quote', 1, { labels: {}, budgets: [budget], createTime: 8_640_000_000_000_000, updateTime: 1, lastSyncTime: 2 }),
      hostRecord('h1', 1, { budgets: [budget, { ...budget, budgetId: 'b2', consumption: new Map() }] }),
    ];
    await store.commit(
      batch({
        hostUpserts: odd,
        leases: [{ hostId: 'h1', expireTime: T0 + 5000 }, { hostId: 'a"quote', expireTime: 2 ** 40 }],
        history: odd.map((host, seq) => entry(1, seq, host.hostId, '', { after: { kind: 'host', host } })),
      }),
    );
    const loaded = await store.load();
    const byId = (a: HostRecord, b: HostRecord) => (a.hostId < b.hostId ? -1 : 1);
    t.deepEqual(loaded.hosts, [...odd].sort(byId));
    t.deepEqual([...loaded.leaseExpiries].sort(), [['a"quote', 2 ** 40], ['h1', T0 + 5000]]);
  });

  contract('a commit returns the chain head after each revision; the chain walks to it, in chunks', async (t, store) => {
    const two = batch({
      ...createHost(1),
      hostUpserts: [...createHost(1).hostUpserts, ...createHost(2).hostUpserts],
      deviceUpserts: [...createHost(1).deviceUpserts, ...createHost(2).deviceUpserts],
      history: [...createHost(1).history, ...createHost(2).history],
    });
    const { heads } = await store.commit(two);
    t.deepEqual(heads.map((h) => h.revision), [1, 2], 'one head per revision, in order');
    t.not(heads[0].hash, heads[1].hash);
    t.is((await store.load()).headHash, heads[1].hash);

    const whole = await store.verifyChain({ after: undefined, prevHash: GENESIS_HASH, limit: 100, expectedHead: heads[0].hash });
    t.like(whole, { checked: 4, broken: undefined, foundExpectedHead: true, last: { revision: 2, seq: 1, hash: heads[1].hash } });
    // Walked one entry at a time, each call continuing from the last.
    let prev = GENESIS_HASH;
    let after: { revision: number; seq: number } | undefined;
    const walked: string[] = [];
    for (;;) {
      const step = await store.verifyChain({ after, prevHash: prev, limit: 1, expectedHead: undefined });
      if (step.checked === 0) break;
      t.is(step.broken, undefined);
      walked.push(`${step.last!.revision}/${step.last!.seq}`);
      after = step.last!;
      prev = step.last!.hash;
    }
    t.deepEqual(walked, ['1/0', '1/1', '2/0', '2/1']);
    t.is(prev, heads[1].hash);
    const unknown = await store.verifyChain({ after: undefined, prevHash: GENESIS_HASH, limit: 100, expectedHead: 'ab'.repeat(32) });
    t.false(unknown.foundExpectedHead);
    const wrongStart = await store.verifyChain({ after: undefined, prevHash: 'cd'.repeat(32), limit: 100, expectedHead: undefined });
    t.like(wrongStart.broken, { revision: 1, seq: 0, problem: 'REMOVED_OR_REORDERED' });
  });

  contract('a batch the store refuses changes nothing: no row, no revision, no chain link', async (t, store) => {
    const { heads } = await store.commit(createHost(1));
    const before = await store.load();
    const orphan = deviceRecord('ghost', 'd0', 2);
    const refused = batch({
      hostUpserts: [hostRecord('h2', 2)],
      deviceUpserts: [orphan],
      history: [entry(2, 0, 'ghost', 'd0', { after: { kind: 'device', device: orphan } })],
    });
    await t.throwsAsync(store.commit(refused));
    t.deepEqual(await store.load(), before);
    t.deepEqual(at(await store.listHistory(HISTORY_QUERY)), ['1/0', '1/1']);
    await t.throwsAsync(store.commit(createHost(1)), undefined, 'a revision is written once');
    const next = await store.commit(createHost(2));
    const walk = await store.verifyChain({ after: undefined, prevHash: GENESIS_HASH, limit: 100, expectedHead: heads[0].hash });
    t.like(walk, { checked: 4, broken: undefined, foundExpectedHead: true, last: { hash: next.heads[0].hash } });
  });

  // The group commit sends batch N+1, planned on N's outcome, before it knows N's outcome:
  // when N fails, the store must refuse N+1 (its base is N's last revision, not the head).
  contract('a batch planned against another head than the store\'s is refused (StaleBatchError) and changes nothing', async (t, store) => {
    await store.commit({ ...createHost(1), baseRevision: 0 });
    const before = await store.load();
    const orphan = deviceRecord('ghost', 'd0', 2);
    await t.throwsAsync(
      store.commit(batch({ deviceUpserts: [orphan], history: [entry(2, 0, 'ghost', 'd0', { after: { kind: 'device', device: orphan } })], baseRevision: 1 })),
      undefined,
      'batch 2 fails',
    );
    for (const base of [2, 0]) {
      const stale = await t.throwsAsync(store.commit({ ...createHost(3), newDescriptors: [], baseRevision: base }));
      t.true(stale instanceof StaleBatchError, `a batch planned on revision ${base} is refused as stale`);
      t.is((stale as StaleBatchError).head, 1, 'naming the head');
    }
    t.deepEqual(await store.load(), before);
    t.deepEqual(at(await store.listHistory(HISTORY_QUERY)), ['1/0', '1/1']);
    const written = await store.commit({ ...createHost(2), newDescriptors: [], baseRevision: 1 });
    t.deepEqual(written.heads.map((h) => h.revision), [2], 'planned on the head, it is written');
  });

  contract('a host is deleted with its devices; its lease goes with it', async (t, store) => {
    await store.commit(createHost(1));
    await store.commit(batch({ leases: [{ hostId: 'h1', expireTime: T0 + 5000 }] }));
    const host = hostRecord('h1', 1);
    const device = deviceRecord('h1', 'd0', 1);
    await t.throwsAsync(
      store.commit(batch({ hostDeletes: ['h1'], history: [entry(2, 0, 'h1', '', { change: 'DELETED', before: { kind: 'host', host } })] })),
      undefined,
      'a host that still has devices is not deleted alone',
    );
    await store.commit(
      batch({
        deviceDeletes: [{ hostId: 'h1', deviceId: 'd0' }],
        hostDeletes: ['h1'],
        history: [
          entry(2, 0, 'h1', 'd0', { change: 'DELETED', before: { kind: 'device', device } }),
          entry(2, 1, 'h1', '', { change: 'DELETED', before: { kind: 'host', host } }),
        ],
      }),
    );
    const loaded = await store.load();
    t.deepEqual([loaded.hosts, loaded.devices, [...loaded.leaseExpiries]], [[], [], []]);
    t.is(loaded.revision, 2);
    t.deepEqual(loaded.descriptors.map((d) => d.id), [1], 'descriptors stay');
  });

  contract('history is listed by resource, revision, time, actor, in either order, from a cursor', async (t, store) => {
    for (let r = 1; r <= 3; r++) await store.commit(createHost(r, r === 2 ? 'bob' : 'alice'));
    await store.commit(updateDevice(4, 1, 1));
    const list = async (query: Partial<HistoryQuery>) => at(await store.listHistory({ ...HISTORY_QUERY, ...query }));
    t.deepEqual(await list({}), ['1/0', '1/1', '2/0', '2/1', '3/0', '3/1', '4/0']);
    t.deepEqual(await list({ newestFirst: true, limit: 3 }), ['4/0', '3/1', '3/0']);
    t.deepEqual(await list({ hostId: 'h1' }), ['1/0', '1/1', '4/0']);
    t.deepEqual(await list({ hostId: 'h1', deviceId: '' }), ['1/0'], 'the host itself');
    t.deepEqual(await list({ hostId: 'h1', deviceId: 'd0' }), ['1/1', '4/0']);
    t.deepEqual(await list({ startRevision: 2, endRevision: 3 }), ['2/0', '2/1', '3/0', '3/1']);
    t.deepEqual(await list({ startTime: T0 + 2000, endTime: T0 + 4000 }), ['2/0', '2/1', '3/0', '3/1'], 'end time exclusive');
    t.deepEqual(await list({ startTime: T0 + 1500 }), ['2/0', '2/1', '3/0', '3/1', '4/0']);
    t.deepEqual(await list({ startTime: T0 + 9000 }), []);
    t.deepEqual(await list({ actor: 'bob' }), ['2/0', '2/1', '4/0']);
    t.deepEqual(await list({ after: { revision: 2, seq: 0 }, limit: 2 }), ['2/1', '3/0']);
    t.deepEqual(await list({ newestFirst: true, after: { revision: 2, seq: 1 } }), ['2/0', '1/1', '1/0']);
    const [update] = await store.listHistory({ ...HISTORY_QUERY, startRevision: 4 });
    t.deepEqual(update.before, { kind: 'device', device: deviceRecord('h1', 'd0', 1) }, 'snapshots come back whole');
    t.regex(update.hash ?? '', /^[0-9a-f]{64}$/);
    t.like(update, { change: 'UPDATED', actor: 'bob', time: T0 + 4000, hostId: 'h1', deviceId: 'd0' });
  });

  contract('firstChangesAfter gives each resource its first change after a revision; revisionAt maps a time to a revision', async (t, store) => {
    for (let r = 1; r <= 2; r++) await store.commit(createHost(r));
    await store.commit(updateDevice(3, 1, 1));
    await store.commit(updateDevice(4, 1, 0));
    t.deepEqual(at(await store.firstChangesAfter({ revision: 1 })), ['2/0', '2/1', '3/0']);
    t.deepEqual(at(await store.firstChangesAfter({ revision: 0, hostId: 'h1' })), ['1/0', '1/1']);
    const [device] = await store.firstChangesAfter({ revision: 3, hostId: 'h1', deviceId: 'd0' });
    t.is(device.revision, 4);
    t.deepEqual(device.before, { kind: 'device', device: deviceRecord('h1', 'd0', 1) }, 'the before as written');
    t.deepEqual(await store.firstChangesAfter({ revision: 4 }), []);
    // A slice: only entries up to `through`, of every resource or of one host or resource.
    t.deepEqual(at(await store.firstChangesAfter({ revision: 1, through: 2 })), ['2/0', '2/1'], 'h1/d0 changed at 3: after the slice');
    t.deepEqual(at(await store.firstChangesAfter({ revision: 3, through: 4 })), ['4/0']);
    t.deepEqual(at(await store.firstChangesAfter({ revision: 0, through: 1, hostId: 'h1' })), ['1/0', '1/1']);
    t.deepEqual(await store.firstChangesAfter({ revision: 0, through: 1, hostId: 'h2' }), []);
    t.deepEqual(await store.firstChangesAfter({ revision: 3, through: 3, hostId: 'h1', deviceId: 'd0' }), [], 'an empty slice');
    t.is((await store.firstChangesAfter({ revision: 3, through: 4, hostId: 'h1', deviceId: 'd0' }))[0]?.revision, 4);
    t.is(await store.revisionAt(T0), undefined);
    t.is(await store.revisionAt(T0 + 1000), 1);
    t.is(await store.revisionAt(T0 + 2999), 2);
    t.is(await store.revisionAt(T0 + 60_000), 4);
  });

  contract('compaction removes history up to a revision and checkpoints the chain there', async (t, store) => {
    const heads: string[] = [];
    for (let r = 1; r <= 4; r++) heads.push((await store.commit(createHost(r))).heads[0].hash);
    const result = await store.compact({ revision: 2, time: T0 + 10_000, actor: 'admin:ops' });
    t.like(result, { checkpoint: { revision: 2, hash: heads[1] }, removed: 4 });
    t.like(result.record, { time: T0 + 10_000, actor: 'admin:ops', removed: 4, headRevision: 4, headHash: heads[3] });
    t.deepEqual(at(await store.listHistory(HISTORY_QUERY)), ['3/0', '3/1', '4/0', '4/1']);
    const loaded = await store.load();
    t.deepEqual(loaded.checkpoint, { revision: 2, hash: heads[1] });
    t.is(loaded.headHash, heads[3]);
    t.is(loaded.hosts.length, 4, 'compaction removes history, not state');
    const walk = await store.verifyChain({ after: undefined, prevHash: heads[1], limit: 100, expectedHead: heads[3] });
    t.like(walk, { checked: 4, broken: undefined, foundExpectedHead: true });
    t.is(await store.revisionAt(T0 + 2500), 2, 'the revision at the cut still resolves');
    t.deepEqual(await store.compact({ revision: 1, time: T0 + 11_000, actor: 'admin:ops' }), { checkpoint: { revision: 2, hash: heads[1] }, removed: 0 });
    t.deepEqual(await store.compact({ revision: 2, time: T0 + 11_000, actor: 'admin:ops' }), { checkpoint: { revision: 2, hash: heads[1] }, removed: 0 });
  });

  contract('compaction records say who compacted, chain to each other, and a removed one shows', async (t, store) => {
    const heads: string[] = [];
    for (let r = 1; r <= 4; r++) heads.push((await store.commit(createHost(r))).heads[0].hash);
    await store.compact({ revision: 1, time: T0 + 10_000, actor: 'admin:ops' });
    await store.compact({ revision: 3, time: T0 + 20_000, actor: 'devcompat' });
    const log = await store.compactions();
    t.is(log.broken, undefined);
    t.deepEqual(
      log.records.map((record) => [record.checkpoint.revision, record.actor, record.removed, record.time]),
      [
        [1, 'admin:ops', 2, T0 + 10_000],
        [3, 'devcompat', 4, T0 + 20_000],
      ],
    );
    t.not(log.records[0]!.recordHash, log.records[1]!.recordHash);
  });

  contract('a compacted store starts an empty one at its checkpoint: history copied after it chains to the same head', async (t, store) => {
    const heads: string[] = [];
    for (let r = 1; r <= 4; r++) heads.push((await store.commit(createHost(r))).heads[0].hash);
    t.is(await store.compactedStart(), undefined, 'never compacted: history starts at genesis');
    await store.compact({ revision: 1, time: T0 + 10_000, actor: 'admin:ops' });
    await store.compact({ revision: 2, time: T0 + 20_000, actor: 'devcompat' });
    const start = (await store.compactedStart())!;
    t.like(start.cut, { revision: 2, time: T0 + 2000, actor: 'alice' });
    const records = (await store.compactions()).records;
    t.deepEqual(start.records, records);

    const copy = await impl.open(t);
    await copy.startCompacted(start);
    t.like(await copy.load(), { revision: 2, headHash: heads[1], checkpoint: { revision: 2, hash: heads[1] } });
    for (let r = 3; r <= 4; r++) {
      const copied = await copy.commit({ ...createHost(r), newDescriptors: r === 3 ? [{ id: 1, key: DESCRIPTOR_KEY }] : [] });
      t.is(copied.heads[0].hash, heads[r - 1], `revision ${r} chains as in the source`);
    }
    t.like(await copy.load(), { revision: 4, headHash: heads[3], checkpoint: { revision: 2, hash: heads[1] } });
    t.deepEqual(await copy.compactions(), { records, broken: undefined });
    t.like(await copy.verifyChain({ after: undefined, prevHash: heads[1], limit: 100, expectedHead: heads[3] }), {
      checked: 4,
      broken: undefined,
      foundExpectedHead: true,
    });
    t.is(await copy.revisionAt(T0 + 2500), 2, 'the revision at the cut resolves in the copy too');
    await t.throwsAsync(copy.startCompacted(start), { message: /not empty/ }, 'only an empty store starts at a checkpoint');
  });

  contract('calls answer in the order they were made: a read made after a commit sees it', async (t, store) => {
    const order: string[] = [];
    const calls = [
      store.commit(createHost(1)).then(() => order.push('commit 1')),
      store.listHistory(HISTORY_QUERY).then((entries) => order.push(`history ${entries.length}`)),
      store.commit(createHost(2)).then(() => order.push('commit 2')),
      store.load().then((loaded) => order.push(`load ${loaded.revision}`)),
      store.firstChangesAfter({ revision: 0 }).then((first) => order.push(`first ${first.length}`)),
      store.commit(createHost(3)).then(() => order.push('commit 3')),
      store.revisionAt(T0 + 60_000).then((revision) => order.push(`revisionAt ${revision}`)),
    ];
    await Promise.all(calls);
    t.deepEqual(order, ['commit 1', 'history 2', 'commit 2', 'load 2', 'first 4', 'commit 3', 'revisionAt 3']);
  });

  contract('a refused call does not hold up the calls after it', async (t, store) => {
    const refused = store.commit(batch({ deviceUpserts: [deviceRecord('ghost', 'd0', 1)], history: [entry(1, 0, 'ghost', 'd0', {})] }));
    const loaded = store.load();
    await t.throwsAsync(refused);
    t.is((await loaded).revision, 0);
  });
}

test('the same writes give the same chain heads in every store', async (t) => {
  const headsOf = async (store: RegistryStore) => {
    const heads: string[] = [];
    for (let r = 1; r <= 3; r++) heads.push(...(await store.commit(createHost(r))).heads.map((h) => h.hash));
    heads.push(...(await store.commit(updateDevice(4, 2, 3))).heads.map((h) => h.hash));
    return heads;
  };
  const all = await Promise.all(STORES.map(async (impl) => headsOf(await impl.open(t))));
  t.is(new Set(all.map((heads) => heads.join())).size, 1, STORES.map((impl, i) => `${impl.name}: ${all[i].join()}`).join('\n'));
  t.is(all[0].length, 4);
});

// Placement claims (migrations/0004_placement_claims.sql, owners 0008_claim_owners.sql): live
// claims are stored with the batch, loaded in creation order, updated in place, deleted when
// they end, and go with a deleted host; a claim's history snapshot reads back as written, its
// owner included (or none: a claim from before owners existed).
function claimRecord(hostId: string, claimId: string, revision: number, extra: Partial<ClaimRecord> = {}): ClaimRecord {
  return {
    hostId,
    claimId,
    devices: [{ deviceId: 'd0', count: 2, remaining: 2 }],
    state: 'CLAIM_STATE_ACTIVE',
    ttlMs: 60_000,
    createTimeMs: T0 + revision * 1000,
    expireTimeMs: T0 + revision * 1000 + 60_000,
    fingerprint: '[[["d0",2]],60000]',
    owner: 'scheduler:nova',
    createRevision: revision,
    revision,
    ...extra,
  };
}

for (const impl of STORES) {
  const contract = (title: string, body: (t: ExecutionContext, store: RegistryStore) => Promise<void>) =>
    test(`${impl.name}: ${title}`, async (t) => body(t, await impl.open(t)));

  contract('claims: stored with the batch, loaded in creation order, updated, deleted, and gone with their host', async (t, store) => {
    await store.commit(createHost(1));
    await store.commit(createHost(2));
    const zed = claimRecord('h1', 'zed', 3);
    await store.commit(batch({ claimUpserts: [zed], history: [entry(3, 0, 'h1', claimEntryId('zed'), { after: { kind: 'claim', claim: zed } })] }));
    const abc = claimRecord('h2', 'abc', 4);
    const alpha = claimRecord('h1', 'alpha', 4, { owner: '' });
    await store.commit(batch({ claimUpserts: [abc, alpha], history: [entry(4, 0, 'h1', claimEntryId('alpha'), { after: { kind: 'claim', claim: alpha } })] }));
    t.deepEqual((await store.load()).claims, [zed, alpha, abc]);

    const used = { ...zed, devices: [{ deviceId: 'd0', count: 2, remaining: 1 }], revision: 5 };
    await store.commit(batch({ claimUpserts: [used], claimDeletes: [{ hostId: 'h1', claimId: 'alpha' }], history: [entry(5, 0, 'h1', claimEntryId('zed'), {})] }));
    t.deepEqual((await store.load()).claims, [used, abc]);

    await store.commit(batch({ deviceDeletes: [{ hostId: 'h2', deviceId: 'd0' }], hostDeletes: ['h2'], history: [entry(6, 0, 'h2', '', {})] }));
    t.deepEqual((await store.load()).claims, [used]);

    const [created] = await store.listHistory(historyQuery({ hostId: 'h1', deviceId: claimEntryId('zed'), limit: 1 }));
    t.deepEqual(created.after, { kind: 'claim', claim: zed });
    const [ownerless] = await store.listHistory(historyQuery({ hostId: 'h1', deviceId: claimEntryId('alpha'), limit: 1 }));
    t.deepEqual(ownerless.after, { kind: 'claim', claim: alpha });
  });
}

// Shared budgets (migrations/0005_shared_budgets.sql, migrations/postgres/0002_shared_budgets.sql): a host's budgets are stored with it,
// loaded back as written, replaced and dropped by a later upsert, and read back from its
// history snapshot; a host without budgets has none (not an empty list).
for (const impl of STORES) {
  test(`${impl.name}: a host's shared budgets are stored, replaced, dropped, and read back from its history`, async (t) => {
    const store = await impl.open(t);
    await store.commit(createHost(1));
    const budgets = [
      { budgetId: 'p/high', parent: 'p', total: 2048, available: 1024, consumption: new Map([['d0', 512]]) },
      { budgetId: 'p/low', parent: 'p', total: 448, available: 256, consumption: new Map([['d0', 128], ['d1', 64]]) },
    ];
    const host = hostRecord('h1', 2, { createRevision: 1, createTime: T0 + 1000, budgets });
    await store.commit(batch({ hostUpserts: [host], history: [entry(2, 0, 'h1', '', { change: 'UPDATED', after: { kind: 'host', host } })] }));
    t.deepEqual((await store.load()).hosts[0], host);
    const [updated] = await store.listHistory(historyQuery({ hostId: 'h1', deviceId: '', startRevision: 2, limit: 1 }));
    t.deepEqual(updated.after, { kind: 'host', host });

    const plain = hostRecord('h1', 3, { createRevision: 1, createTime: T0 + 1000 });
    await store.commit(batch({ hostUpserts: [plain], history: [entry(3, 0, 'h1', '', { change: 'UPDATED', after: { kind: 'host', host: plain } })] }));
    const loaded = (await store.load()).hosts[0];
    t.is(loaded.budgets, undefined, 'dropped budgets are gone');
    t.deepEqual(loaded, plain);
  });
}

// The SQL stores' loads (rows.ts sharingDeviceFromRow): the memory store keeps the records it was given.
for (const impl of STORES.filter((candidate) => candidate.name !== 'memory')) {
  test(`${impl.name}: a load shares equal device labels and capacities (one object each, as the live state keeps them)`, async (t) => {
    const store = await impl.open(t);
    await store.commit(createHost(1));
    await store.commit(createHost(2));
    await store.commit(updateDevice(3, 1, 0));
    const { devices } = await store.load();
    t.is(devices.length, 2);
    t.is(devices[0].labels, devices[1].labels, 'equal labels: one object');
    t.deepEqual(devices.map((device) => device.capacity), [{ total: 4, available: 0 }, { total: 4, available: 2 }]);
    t.not(devices[0].capacity, devices[1].capacity, 'different capacities stay apart');
    await store.commit(updateDevice(4, 1, 2));
    const again = await store.load();
    t.is(again.devices[0].capacity, again.devices[1].capacity, 'equal capacities: one object');
  });
}

// A server's SQLite store (sqliteStore) reads the state ahead while its worker runs the start-up
// checks; that first load must be the state a plain load gives, and a commit after it is seen.
test('sqlite: the state read ahead at open is what a load reads; later loads see later commits', async (t) => {
  const file = path.join(tempDir(t), 'ahead.db');
  const first = await WorkerStore.open({ path: file, durability: 'relaxed' });
  await first.commit(createHost(1));
  await first.commit(createHost(2));
  await first.commit(updateDevice(3, 1, 0));
  const plain = await first.load();
  await first.close();

  const ahead = await sqliteStore({ path: file, durability: 'relaxed' })();
  t.teardown(() => ahead.close());
  t.deepEqual(await ahead.load(), plain);
  await ahead.commit(updateDevice(4, 2, 1));
  const after = await ahead.load();
  t.is(after.revision, 4);
  t.deepEqual(after.devices.find((device) => device.hostId === 'h2')?.capacity, { total: 4, available: 1 });
});

// Stores several servers write (replicas): the RevisionLog and the stale-batch refusal, on the
// memory store's SharedMemory and, under `npm run test:postgres`, on two PostgreSQL stores over
// one database. Each server follows the others through its own store.
interface SharedStoresUnderTest {
  readonly name: string;
  open(t: ExecutionContext): Promise<[ServedStore, ServedStore]>;
}

const SHARED_STORES: readonly SharedStoresUnderTest[] = [
  {
    name: 'memory',
    async open() {
      const shared = new SharedMemory();
      return [shared.open(), shared.open()];
    },
  },
  ...(TEST_POSTGRES
    ? [
        {
          name: 'postgres',
          async open(t: ExecutionContext): Promise<[ServedStore, ServedStore]> {
            const url = await testDatabase(t);
            const first = await PostgresStore.open({ url });
            t.teardown(() => first.close());
            const second = await PostgresStore.open({ url });
            t.teardown(() => second.close());
            return [first, second];
          },
        },
      ]
    : []),
];

for (const impl of SHARED_STORES) {
  const shared = (title: string, body: (t: ExecutionContext, a: ServedStore, b: ServedStore) => Promise<void>) =>
    test(`${impl.name} shared: ${title}`, async (t) => body(t, ...(await impl.open(t))));

  shared('a server reads the revisions another committed, in order, paged, with their head hashes and new descriptors', async (t, a, b) => {
    t.truthy(a.log && b.log, 'each store of a shared one has a revision log');
    const heads = [];
    for (let revision = 1; revision <= 3; revision++) heads.push(...(await a.commit(createHost(revision))).heads);
    const all = await b.log!.readAfter(0, 0, 100);
    t.is(all.head, 3);
    t.deepEqual(all.descriptors, [{ id: 1, key: DESCRIPTOR_KEY }]);
    t.deepEqual(all.revisions.map((r) => [r.revision, r.time, r.headHash]), heads.map((h) => [h.revision, T0 + h.revision * 1000, h.hash]));
    t.deepEqual(all.revisions[1].entries, await a.listHistory(historyQuery({ startRevision: 2, endRevision: 2, limit: 10 })));
    const page = await b.log!.readAfter(1, 1, 1);
    t.deepEqual(page.revisions.map((r) => r.revision), [2], 'at most `limit` revisions, after the one given');
    t.deepEqual(page.descriptors, [], 'descriptors above the id given only');
    t.is(page.head, 3);
    t.deepEqual((await b.log!.readAfter(3, 1, 100)).revisions, [], 'nothing after the head');
  });

  shared('a batch planned against an older head is refused (StaleBatchError) and changes nothing; against the head it is written', async (t, a, b) => {
    await a.commit({ ...createHost(1), baseRevision: 0 });
    const stale = await t.throwsAsync(b.commit({ ...createHost(2), newDescriptors: [], baseRevision: 0 }));
    t.true(stale instanceof StaleBatchError);
    t.is((stale as StaleBatchError).head, 1);
    t.deepEqual((await b.load()).hosts.map((host) => host.hostId), ['h1'], 'the stale batch wrote nothing');
    await b.commit({ ...createHost(2), baseRevision: 1 });
    const loaded = await a.load();
    t.is(loaded.revision, 2);
    t.deepEqual(loaded.hosts.map((host) => host.hostId), ['h1', 'h2']);
  });

  shared("a commit wakes the other server; one server holds the lease duty; lease expiries persisted by one are read by the other", async (t, a, b) => {
    const woken = new Promise<void>((resolve) => b.log!.onAdvance(resolve));
    await a.commit(createHost(1));
    await woken;
    t.is([a, b].filter((store) => store.log!.holdsLeaseDuty()).length, 1, 'exactly one holds the duty');
    await a.commit(batch({ leases: [{ hostId: 'h1', expireTime: T0 + 5000 }, { hostId: 'gone', expireTime: T0 }] }));
    t.deepEqual([...(await b.log!.leaseExpiries(['h1', 'gone', 'h2']))], [['h1', T0 + 5000]]);
  });

  shared('a compaction by one server wakes the other, which reads the new checkpoint from the log and on its own', async (t, a, b) => {
    const heads = [];
    for (let revision = 1; revision <= 3; revision++) heads.push(...(await a.commit(createHost(revision))).heads);
    t.deepEqual(await b.log!.checkpoint(), { revision: 0, hash: GENESIS_HASH }, 'nothing compacted yet');
    const woken = new Promise<void>((resolve) => b.log!.onAdvance(resolve));
    await a.compact({ revision: 2, time: T0 + 10_000, actor: 'admin:ops' });
    await woken;
    const cut = { revision: 2, hash: heads[1].hash };
    t.deepEqual(await b.log!.checkpoint(), cut);
    const page = await b.log!.readAfter(0, 0, 100);
    t.deepEqual(page.checkpoint, cut, 'each page of the log carries the checkpoint');
    t.deepEqual(page.revisions.map((r) => r.revision), [2, 3], 'the revision at the cut stays, its entries gone');
    t.deepEqual(page.revisions[0].entries, []);
  });

  shared('a compaction records the shared store\'s head, also when another server wrote last', async (t, a, b) => {
    const heads = [];
    for (let revision = 1; revision <= 3; revision++) heads.push(...(await a.commit(createHost(revision))).heads);
    heads.push(...(await b.commit({ ...createHost(4), newDescriptors: [] })).heads);
    const compacted = await a.compact({ revision: 2, time: T0 + 10_000, actor: 'admin:ops' });
    t.like(compacted.record, { headRevision: 4, headHash: heads[3].hash });
    t.like((await b.compactions()).records.at(-1), { headRevision: 4, headHash: heads[3].hash });
  });
}

test('memory shared: the lease duty passes to the next open store when its holder closes; wake-ups can be lost, and re-opening wakes everyone', async (t) => {
  const memory = new SharedMemory();
  const [a, b, c] = [memory.open(), memory.open(), memory.open()];
  t.deepEqual([a, b, c].map((store) => store.log!.holdsLeaseDuty()), [true, false, false]);
  await a.close();
  t.deepEqual([a, b, c].map((store) => store.log!.holdsLeaseDuty()), [false, true, false]);
  let wakes = 0;
  c.log!.onAdvance(() => wakes++);
  memory.dropWakeups = true;
  await b.commit(createHost(1));
  await new Promise(setImmediate);
  t.is(wakes, 0, 'a lost wake-up');
  t.is((await c.log!.readAfter(0, 0, 10)).head, 1, 'the log is the truth');
  memory.dropWakeups = false;
  t.is(wakes, 1);
  t.false(new MemoryStore().log !== undefined, 'a store of its own has no log');
});
