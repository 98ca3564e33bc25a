// The history chain's hash, pure: each entry's hash is hex SHA-256 over the previous hash's 32
// bytes followed by the UTF-8 of the JSON array of its columns, in the documented order
// (docs/api.md, "Audit"). Computed here independently of the implementation, and each column
// changed alone changes the hash. A fast test (no SQLite, no server), run by the mutation run.

import test from 'ava';
import { createHash } from 'node:crypto';
import { canonicalEntry, chainHash, chainedColumns, GENESIS_HASH, type ChainedColumns } from '../server/store/history-chain.ts';

const ENTRY: ChainedColumns = {
  revision: 7,
  seq: 2,
  time: 1_700_000_000_123,
  hostId: 'host-a',
  deviceId: 'gpu-0',
  change: 'UPDATED',
  actor: 'agent',
  reason: 'sync',
  before: '{"state":"READY"}',
  after: '{"state":"UNREACHABLE"}',
  // Empty: the version-1 encoding (an entry with an on-behalf-of annotation is hashed as version 2).
  onBehalfOf: '',
};

function documentedHash(prev: string, e: ChainedColumns): string {
  const text = `[${e.revision},${e.seq},${e.time},"${e.hostId}","${e.deviceId}","${e.change}","${e.actor}","${e.reason}",${JSON.stringify(e.before)},${JSON.stringify(e.after)}]`;
  return createHash('sha256').update(Buffer.concat([Buffer.from(prev, 'hex'), Buffer.from(text, 'utf8')])).digest('hex');
}

test('the genesis hash is 64 zero hex digits', (t) => {
  t.is(GENESIS_HASH, '0000000000000000000000000000000000000000000000000000000000000000');
});

test('the hash is the documented formula, from genesis and from a previous hash', (t) => {
  t.is(chainHash(GENESIS_HASH, ENTRY), documentedHash(GENESIS_HASH, ENTRY));
  const prev = documentedHash(GENESIS_HASH, ENTRY);
  t.is(chainHash(prev, { ...ENTRY, revision: 8 }), documentedHash(prev, { ...ENTRY, revision: 8 }));
  t.not(chainHash(prev, ENTRY), chainHash(GENESIS_HASH, ENTRY), 'the previous hash is hashed');
});

test('the hash is the documented formula whatever the size and characters of a snapshot', (t) => {
  // Snapshots from a few bytes to beyond the buffer hashing reuses (64 KiB), in ASCII, two-byte,
  // three-byte and four-byte UTF-8, and the line separator JSON does not escape.
  for (const unit of ['a', 'é', '€', '🦀', '\u2028']) {
    for (const repeat of [1, 1000, 30_000]) {
      const entry = { ...ENTRY, after: JSON.stringify({ l: { v: unit.repeat(repeat) } }) };
      t.is(chainHash(GENESIS_HASH, entry), documentedHash(GENESIS_HASH, entry), `${JSON.stringify(unit)} x ${repeat}`);
    }
  }
});

test('a previous hash that is not 64 hex digits is hashed as its hex bytes read (a broken link being checked)', (t) => {
  // What a verifier meets when a stored link was edited: the same bytes as Buffer.from(hex) reads.
  for (const prev of ['', 'zz', 'ab'.repeat(31), 'ab'.repeat(33), 'AB'.repeat(32)]) {
    t.is(chainHash(prev, ENTRY), documentedHash(prev, ENTRY), JSON.stringify(prev));
  }
});

test('the canonical encoding is the columns in order, absent snapshots as null', (t) => {
  t.is(canonicalEntry({ ...ENTRY, before: null }), '[7,2,1700000000123,"host-a","gpu-0","UPDATED","agent","sync",null,"{\\"state\\":\\"UNREACHABLE\\"}"]');
  t.is(chainHash(GENESIS_HASH, { ...ENTRY, after: null }), documentedHash(GENESIS_HASH, { ...ENTRY, after: null }));
});

test('every chained column, changed alone, changes the hash', (t) => {
  const base = chainHash(GENESIS_HASH, ENTRY);
  const edits: Partial<ChainedColumns>[] = [
    { revision: 8 }, { seq: 3 }, { time: ENTRY.time + 1 }, { hostId: 'host-b' }, { deviceId: 'gpu-1' },
    { change: 'DELETED' }, { actor: 'devcompat' }, { reason: 'lease' }, { before: null }, { after: null },
  ];
  for (const edit of edits) t.not(chainHash(GENESIS_HASH, { ...ENTRY, ...edit }), base, `edit ${Object.keys(edit)[0]}`);
});

test('a stored row maps to the chained columns, time_ms as time', (t) => {
  const row = {
    revision: 7, seq: 2, time_ms: ENTRY.time, host_id: 'host-a', device_id: 'gpu-0', change: 'UPDATED',
    actor: 'agent', reason: 'sync', before: ENTRY.before, after: ENTRY.after, on_behalf_of: '',
  };
  t.deepEqual(chainedColumns(row), ENTRY);
});
