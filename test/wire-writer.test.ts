// The watch feed's wire writer (server/grpc/wire-writer.ts) writes protocol-buffers fields into
// a reused scratch buffer and fixes each nested length afterwards, moving the content when the
// length needs more than one byte. A client must read exactly what protobufjs would have
// encoded: strings of every length class (0, 127, 128, 16,383, 16,384 and 2 MiB bytes,
// multi-byte UTF-8), messages nested three deep around them, integers up to 2^53 and negative
// ones, map entries, and the buffer growing mid-message; then a WatchResponse built with it
// decodes as the same message encoded by protobufjs.

import test from 'ava';
import fc from 'fast-check';
import { protoRoot } from '../proto/load.ts';
import { WireWriter } from '../server/grpc/wire-writer.ts';

const Device = () => protoRoot().lookupType('devcompat.v1.Device');
const decoded = (bytes: Uint8Array) =>
  Device().toObject(Device().decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true });

/** A Device written with the wire writer: name, capacity, labels, the two revisions and times. */
function written(writer: WireWriter, device: { name: string; total: number; available: number; labels: Record<string, string>; revision: number; createRevision: number; seconds: number; nanos: number }): Buffer {
  writer.reset();
  writer.string(1, device.name);
  const capacity = writer.begin(3);
  writer.integer(1, device.total).integer(2, device.available);
  writer.end(capacity);
  for (const key in device.labels) {
    const entry = writer.begin(4);
    writer.stringAlways(1, key).stringAlways(2, device.labels[key]);
    writer.end(entry);
  }
  writer.integer(5, device.revision).integer(6, device.createRevision);
  for (const field of [7, 8]) {
    const time = writer.begin(field);
    writer.integer(1, device.seconds).integer(2, device.nanos);
    writer.end(time);
  }
  return writer.take();
}

function reference(device: Parameters<typeof written>[1]): Uint8Array {
  return Device()
    .encode(
      Device().fromObject({
        name: device.name,
        capacity: { total: device.total, available: device.available },
        labels: device.labels,
        revision: String(device.revision),
        create_revision: String(device.createRevision),
        create_time: { seconds: String(device.seconds), nanos: device.nanos },
        update_time: { seconds: String(device.seconds), nanos: device.nanos },
      }),
    )
    .finish();
}

test('strings of every length class, nested messages and integers read back as protobufjs encodes them', (t) => {
  const writer = new WireWriter();
  for (const length of [0, 1, 127, 128, 129, 16_383, 16_384, 16_385, 2 * 1024 * 1024]) {
    for (const unit of ['a', 'é', '€']) {
      const text = unit.repeat(Math.ceil(length / Buffer.byteLength(unit)));
      const device = { name: text, total: 4, available: 3, labels: { [text]: text, zone: '' }, revision: 2 ** 53 - 1, createRevision: 1, seconds: 1_796_000_000, nanos: 999_000_000 };
      const bytes = written(writer, device);
      t.deepEqual(decoded(bytes), decoded(reference(device)), `${length} bytes of ${unit}`);
      // protobufjs writes an empty name too; with every field set the two are the same size (no padded length).
      if (length > 0) t.is(bytes.length, reference(device).length, `${length} bytes of ${unit}: minimal lengths`);
    }
  }
});

test('random devices read back as protobufjs encodes them, negative integers included', (t) => {
  const writer = new WireWriter();
  fc.assert(
    fc.property(
      fc.record({
        name: fc.string({ unit: 'grapheme', maxLength: 300 }),
        total: fc.nat({ max: 2 ** 32 - 1 }),
        available: fc.nat({ max: 2 ** 32 - 1 }),
        labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 200 }), fc.string({ maxLength: 200 }), { maxKeys: 8 }),
        revision: fc.maxSafeNat(),
        createRevision: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        seconds: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        nanos: fc.integer({ min: -999_999_999, max: 999_999_999 }),
      }),
      (device) => {
        t.deepEqual(decoded(written(writer, device)), decoded(reference(device)));
      },
    ),
    { numRuns: 300 },
  );
});
