// The commit's hot-path encodings (history-entry-text.ts, commit-encoding.ts, sqlite-history.ts
// chainPacked) against the reference they replace, on generated records: an entry's canonical
// text is byte for byte canonicalEntry over encodeSnapshot's columns (so the hashes, the chain
// and the stored history are unchanged, and databases written before verify as they did); a
// device's row text holds deviceToRow's values in the table's column order; a batch chained and
// packed from its text has the heads, the links and the packed rows the records give through
// chainEntries. Pure and fast: no SQLite, no server.

import test from 'ava';
import fc from 'fast-check';
import type { Capacity } from '../server/core/model.ts';
import type { Labels } from '../server/core/resources.ts';
import type { CommitBatch, DeviceRecord, HistoryRecord, HostRecord, ResourceSnapshot } from '../server/core/store.ts';
import { encodeCommitBatch } from '../server/store/commit-encoding.ts';
import { canonicalEntry, GENESIS_HASH } from '../server/store/history-chain.ts';
import { chainEntries, chainedColumnsOf } from '../server/store/history-encoding.ts';
import { canonicalEntryText, deviceRowText } from '../server/store/history-entry-text.ts';
import { deviceToRow } from '../server/store/rows.ts';
import { chainPacked } from '../server/store/sqlite-history.ts';

/** What chainEntries hashes for a record: the reference encoding. */
function referenceEncoding(entry: HistoryRecord): string {
  return canonicalEntry(chainedColumnsOf(entry));
}

// Text that JSON escapes in every way: quotes, backslashes, control characters, lone surrogates,
// the line separator it leaves alone, and characters of two to four UTF-8 bytes.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', 'a"b', 'c\\d', '\n', '\u0000', '\u2028', '\ud800', 'é€🦀', '0000:3b:00.1'),
);
const integer = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(0, 1, 2, 2 ** 53 - 1, 1_764_000_000_123));
// Numbers JSON cannot print (it writes null): no store writes them, but the text must still be
// the reference encoding's, so each number field sometimes takes one.
const number = fc.oneof({ arbitrary: integer, weight: 9 }, { arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity), weight: 1 });
const labels: fc.Arbitrary<Labels> = fc.dictionary(text, text, { maxKeys: 4 });
const capacity: fc.Arbitrary<Capacity | undefined> = fc.option(fc.record({ total: number, available: number }), { nil: undefined });

const device: fc.Arbitrary<DeviceRecord> = fc.record({
  hostId: text,
  deviceId: text,
  descriptorId: number,
  capacity,
  labels,
  revision: number,
  createRevision: number,
  createTime: number,
  updateTime: number,
});

const host: fc.Arbitrary<HostRecord> = fc.record({
  hostId: text,
  labels,
  revision: integer,
  createRevision: integer,
  createTime: integer,
  updateTime: integer,
  lastSyncTime: integer,
  reachable: fc.boolean(),
  draining: fc.boolean(),
});

const snapshot: fc.Arbitrary<ResourceSnapshot | undefined> = fc.oneof(
  fc.constant(undefined),
  device.map((d): ResourceSnapshot => ({ kind: 'device', device: d })),
  host.map((h): ResourceSnapshot => ({ kind: 'host', host: h })),
);

const entry: fc.Arbitrary<HistoryRecord> = fc.record({
  revision: number,
  seq: number,
  time: number,
  hostId: text,
  deviceId: text,
  change: fc.constantFrom('CREATED' as const, 'UPDATED' as const, 'DELETED' as const),
  actor: text,
  reason: text,
  onBehalfOf: fc.option(text, { nil: undefined }),
  before: snapshot,
  after: snapshot,
});

test('an entry written from its record is byte for byte the reference encoding, whatever its text', (t) => {
  fc.assert(
    fc.property(entry, (e) => canonicalEntryText(e) === referenceEncoding(e)),
    { numRuns: 3000 },
  );
  t.pass();
});

test('a label set shared by many devices is encoded right each time, and an equal set in another object too', (t) => {
  const shared: Labels = { family: 'nvidia-vgpu', parent: '0000:3b:00.0', 'a"b': 'c\\d' };
  for (let i = 0; i < 3; i++) {
    const d: DeviceRecord = { hostId: 'h1', deviceId: `d${i}`, descriptorId: 3, capacity: { total: 4, available: i }, labels: shared, revision: 9, createRevision: 2, createTime: 5, updateTime: 9 };
    const e: HistoryRecord = { revision: 9, seq: i, time: 9, hostId: 'h1', deviceId: d.deviceId, change: 'UPDATED', actor: 'agent', reason: '', before: undefined, after: { kind: 'device', device: d } };
    t.is(canonicalEntryText(e), referenceEncoding(e));
    t.is(canonicalEntryText({ ...e, after: { kind: 'device', device: { ...d, labels: { ...shared } } } }), referenceEncoding(e));
  }
});

test('entries and rows that differ from the one before in a single value are each encoded from their own values', (t) => {
  // The encoder reuses pieces while consecutive records repeat them (history-entry-text.ts):
  // a change of any one value must give that record's own text, never the previous piece.
  const d: DeviceRecord = { hostId: 'h1', deviceId: 'd1', descriptorId: 3, capacity: { total: 4, available: 2 }, labels: { a: 'b' }, revision: 9, createRevision: 2, createTime: 5, updateTime: 9 };
  const deviceChanges: Partial<DeviceRecord>[] = [
    {},
    { hostId: 'h2' },
    { deviceId: 'd2' },
    { descriptorId: 4 },
    { capacity: { total: 4, available: 3 } },
    { capacity: { total: 5, available: 3 } },
    { capacity: undefined },
    { capacity: { total: 0, available: 0 } },
    { revision: 10 },
    { createRevision: 3 },
    { createTime: 6 },
    { updateTime: 10 },
    { updateTime: -0 },
    { updateTime: Number.NaN },
    { labels: { a: 'c' } },
  ];
  const e: HistoryRecord = { revision: 9, seq: 0, time: 9, hostId: 'h1', deviceId: 'd1', change: 'UPDATED', actor: 'agent', reason: 'why', before: undefined, after: { kind: 'device', device: d } };
  const entryChanges: Partial<HistoryRecord>[] = [
    {},
    { time: 10 },
    { time: Number.POSITIVE_INFINITY },
    { hostId: 'h3' },
    { change: 'CREATED' },
    { actor: 'ops' },
    { reason: 'other' },
    { revision: 11 },
    { seq: 1 },
    { onBehalfOf: 'someone' },
  ];
  for (let round = 0; round < 2; round++) {
    for (const change of deviceChanges) {
      const changed = { ...d, ...change };
      t.is(deviceRowText(changed), JSON.stringify(Object.values(deviceToRow(changed))));
      const withDevice: HistoryRecord = { ...e, before: { kind: 'device', device: d }, after: { kind: 'device', device: changed } };
      t.is(canonicalEntryText(withDevice), referenceEncoding(withDevice));
      t.is(deviceRowText(d), JSON.stringify(Object.values(deviceToRow(d))));
    }
    for (const change of entryChanges) {
      const changed = { ...e, ...change };
      t.is(canonicalEntryText(changed), referenceEncoding(changed));
      t.is(canonicalEntryText(e), referenceEncoding(e));
    }
  }
});

test("a device's row text holds deviceToRow's values in the devices table's column order", (t) => {
  fc.assert(
    fc.property(device, (d) => deviceRowText(d) === JSON.stringify(Object.values(deviceToRow(d)))),
    { numRuns: 2000 },
  );
  t.pass();
});

/** A batch of `hosts` revisions, each a host entry and its devices' entries, as a registration writes. */
function registration(first: number, hosts: number, onBehalfOf?: string): CommitBatch {
  const labels: Labels = { family: 'mlx5', pf: '0000:5e:00.0' };
  const history: HistoryRecord[] = [];
  const deviceUpserts: DeviceRecord[] = [];
  const hostUpserts: HostRecord[] = [];
  for (let revision = first; revision < first + hosts; revision++) {
    const hostId = `h${revision}`;
    const record: HostRecord = { hostId, labels: { zone: 'z1' }, revision, createRevision: revision, createTime: revision, updateTime: revision, lastSyncTime: revision, reachable: true, draining: false };
    hostUpserts.push(record);
    history.push({ revision, seq: 0, time: revision, hostId, deviceId: '', change: 'CREATED', actor: 'agent', onBehalfOf, reason: 'r"1', before: undefined, after: { kind: 'host', host: record } });
    for (let i = 0; i < 4; i++) {
      const d: DeviceRecord = { hostId, deviceId: `0000:5e:00.${i + 1}`, descriptorId: 1 + (i % 2), capacity: i % 2 ? { total: 1, available: 1 } : undefined, labels, revision, createRevision: revision, createTime: revision, updateTime: revision };
      deviceUpserts.push(d);
      history.push({ revision, seq: i + 1, time: revision, hostId, deviceId: d.deviceId, change: 'CREATED', actor: 'agent', onBehalfOf, reason: 'r"1', before: undefined, after: { kind: 'device', device: d } });
    }
  }
  return { newDescriptors: [], hostUpserts, hostDeletes: [], deviceUpserts, deviceDeletes: [], history, syncTouches: [], leases: [] };
}

for (const onBehalfOf of [undefined, 'ops@example']) {
  test(`a batch chained and packed from its text matches chainEntries: heads, links, rows (${onBehalfOf ? 'version 2' : 'version 1'} entries)`, (t) => {
    let head = GENESIS_HASH;
    let reference = GENESIS_HASH;
    for (const batch of [registration(1, 3, onBehalfOf), registration(4, 1, onBehalfOf), registration(5, 5, onBehalfOf)]) {
      const encoded = encodeCommitBatch(batch);
      t.deepEqual(JSON.parse(encoded.devices), batch.deviceUpserts.map((d) => Object.values(deviceToRow(d))));
      const packed = chainPacked(head, encoded.history);
      const chained = chainEntries(reference, batch.history);
      t.deepEqual(packed.heads, chained.heads);
      t.is(packed.head, chained.head);
      const revisions = [...new Set(batch.history.map((e) => e.revision))];
      t.deepEqual(packed.revisions.map((r) => r.revision), revisions);
      for (const row of packed.revisions) {
        const entries = chained.entries.filter((e) => e.columns.revision === row.revision);
        const c = entries.map(({ columns: e }) => [e.seq, e.time, e.hostId, e.deviceId, e.change, e.actor, e.reason, e.before, e.after, e.onBehalfOf]);
        t.is(row.entries, JSON.stringify(c));
        t.is(row.links.toString('hex'), entries.map((e) => e.prev + e.hash).join(''));
        t.deepEqual(row.hosts, [`h${row.revision}`]);
      }
      const revisionRows = encoded.history.revisions.map(({ revision, time, actor, reason }) => ({ revision, time, actor, reason }));
      t.deepEqual(revisionRows, revisions.map((revision) => ({ revision, time: revision, actor: 'agent', reason: 'r"1' })));
      head = packed.head;
      reference = chained.head;
    }
  });
}

test('a batch with no history encodes to none, and its head stays', (t) => {
  const encoded = encodeCommitBatch({ ...registration(1, 1), history: [] });
  const packed = chainPacked(GENESIS_HASH, encoded.history);
  t.deepEqual(packed, { revisions: [], heads: [], head: GENESIS_HASH });
});

test("a batch whose revision's entries are not together is refused before anything is encoded", (t) => {
  const batch = registration(1, 2);
  const [first, ...rest] = batch.history;
  t.throws(() => encodeCommitBatch({ ...batch, history: [...rest, first] }), { message: /revision 1 are not consecutive/ });
});
