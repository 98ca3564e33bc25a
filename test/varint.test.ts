// The varint of the codecs that size their messages first (proto/varint.ts): the bytes
// protobufjs writes for the same uint64, and the length they take, on both sides of every
// boundary where a varint grows a byte and where the 32-bit fast path ends; read back up to
// 2^49, and refused (-1) beyond it or when cut short, for the caller's slow path.

import test from 'ava';
import protobuf from 'protobufjs';
import { cursor, readVarint, varintLength, writeVarint } from '../proto/varint.ts';

test('varints are the bytes protobufjs writes, with their lengths, up to 2^53', (t) => {
  const values = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 42 + 17, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1];
  for (const value of values) {
    const expected = Buffer.from(protobuf.Writer.create().uint64(value).finish());
    const buf = Buffer.alloc(12, 0xee);
    const end = writeVarint(buf, 1, value);
    t.deepEqual(buf.subarray(1, end), expected, String(value));
    t.is(varintLength(value), expected.length, String(value));
    t.is(buf[end], 0xee, `nothing written past the varint of ${value}`);
  }
});

test('varints read back up to 2^49; longer or cut short, they are left to the slow path', (t) => {
  for (const value of [0, 1, 127, 128, 16_384, 2 ** 31, 2 ** 35 + 3, 2 ** 49 - 1]) {
    const buf = Buffer.alloc(12);
    const end = writeVarint(buf, 2, value);
    t.is(readVarint(buf, 2, end), value, String(value));
    t.is(cursor, end, `the cursor stops after the varint of ${value}`);
    if (end - 2 > 1) t.is(readVarint(buf, 2, end - 1), -1, `${value} cut short`);
  }
  for (const value of [2 ** 49, 2 ** 53 - 1]) {
    const buf = Buffer.alloc(12);
    t.is(readVarint(buf, 0, writeVarint(buf, 0, value)), -1, String(value));
  }
});
