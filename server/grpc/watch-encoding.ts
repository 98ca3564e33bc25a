// The watch feed's messages as bytes (WatchResponse), encoded once per revision for every
// watcher that takes it whole (the memo on the change), and a progress tick's once for every
// watcher due. Two savings over building the message as proto-loader objects and encoding it
// with `fromObject` + `encode`:
//   - a device's state carries its descriptor (vendor, type, attributes, rules: most of an
//     event's encoding work), and a fleet has few distinct descriptors while every device change
//     carries two device states: each descriptor is encoded once, kept with it (a WeakMap, gone
//     with the descriptor), and written as bytes into the device's message;
//   - the response, its events and the devices (the messages of every revision) are handed to
//     protobufjs's `encode` as objects already in its types (numbers for int64 and enums), with
//     no `fromObject` conversion; host and claim states, rarer, still go through it.
// A parser reads a message field given as bytes exactly as one encoded in place, so the result
// decodes as the loader-built message would: test/watch-encoding.test.ts checks it for every kind
// of state and filter view.

import type protobuf from 'protobufjs';
import { protoRoot, protoType } from '../../proto/load.ts';
import type { Descriptor } from '../core/model.ts';
import type { Registry, RevisionChange } from '../core/registry.ts';
import type { ResourceSnapshot } from '../core/store.ts';
import type { WatchDelivery, WatchEventView } from '../core/watch-hub.ts';
import { descriptorToJson } from '../core/validate.ts';
import { deviceName } from '../core/resources.ts';
import { capacityMessage, entryResourceName, snapshotMessage } from './convert.ts';

const WIRE_LEN = 2;
const tag = (field: number) => (field << 3) | WIRE_LEN;

// Field numbers (watch.proto, history.proto, registry.proto).
const WATCH_RESPONSE_EVENTS = 3;
const WATCH_EVENT_BEFORE = 3;
const WATCH_EVENT_AFTER = 4;
const RESOURCE_STATE_DEVICE = 2;
const DEVICE_DESCRIPTOR = 2;

let cachedTypes:
  | { response: protobuf.Type; event: protobuf.Type; state: protobuf.Type; device: protobuf.Type; descriptor: protobuf.Type; changeKind: Record<string, number> }
  | undefined;

const types = () =>
  (cachedTypes ??= {
    response: protoType('devcompat.v1.WatchResponse'),
    event: protoType('devcompat.v1.WatchEvent'),
    state: protoType('devcompat.v1.ResourceState'),
    device: protoType('devcompat.v1.Device'),
    descriptor: protoType('devcompat.v1.Descriptor'),
    changeKind: protoRoot().lookupEnum('devcompat.v1.ChangeKind').values,
  });

/** A message encoded whole by protobufjs (created, progress). */
export function encodeWatchResponse(message: object): Buffer {
  const { response } = types();
  return Buffer.from(response.encode(response.fromObject(message)).finish());
}

const descriptorBytes = new WeakMap<Descriptor, Uint8Array>();

function encodedDescriptor(descriptor: Descriptor): Uint8Array {
  let bytes = descriptorBytes.get(descriptor);
  if (!bytes) {
    const type = types().descriptor;
    bytes = type.encode(type.fromObject(descriptorToJson(descriptor))).finish();
    descriptorBytes.set(descriptor, bytes);
  }
  return bytes;
}

/** A timestamp as protobufjs encodes it. */
function time(ms: number) {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** Field `field` of a WatchEvent: a ResourceState, a device's with its descriptor's kept bytes. */
function writeState(writer: protobuf.Writer, field: number, snapshot: ResourceSnapshot | undefined, registry: Registry): void {
  if (!snapshot) return;
  const t = types();
  writer.uint32(tag(field)).fork();
  if (snapshot.kind === 'device') {
    const record = snapshot.device;
    writer.uint32(tag(RESOURCE_STATE_DEVICE)).fork();
    // Device's fields but the descriptor, as deviceMessage (convert.ts) has them.
    t.device.encode(
      {
        name: deviceName(record.hostId, record.deviceId),
        capacity: capacityMessage(record.capacity),
        labels: record.labels,
        revision: record.revision,
        create_revision: record.createRevision,
        create_time: time(record.createTime),
        update_time: time(record.updateTime),
      },
      writer,
    );
    writer.uint32(tag(DEVICE_DESCRIPTOR)).bytes(encodedDescriptor(registry.descriptorById(record.descriptorId)));
    writer.ldelim();
  } else {
    t.state.encode(t.state.fromObject(snapshotMessage(snapshot, registry)!), writer);
  }
  writer.ldelim();
}

function writeEvent(writer: protobuf.Writer, view: WatchEventView, registry: Registry): void {
  const { entry } = view;
  const t = types();
  writer.uint32(tag(WATCH_RESPONSE_EVENTS)).fork();
  t.event.encode(
    {
      kind: t.changeKind[`CHANGE_KIND_${view.kind}`],
      resource: entryResourceName(entry),
      actor: entry.actor,
      reason: entry.reason,
      left_filter: view.leftFilter,
      entered_filter: view.enteredFilter,
    },
    writer,
  );
  writeState(writer, WATCH_EVENT_BEFORE, entry.before, registry);
  writeState(writer, WATCH_EVENT_AFTER, entry.after, registry);
  writer.ldelim();
}

/** One revision's events as a watcher sees them. */
export function encodeDelivery(delivery: WatchDelivery, registry: Registry): Buffer {
  const { change } = delivery;
  const { response } = types();
  const writer = response.encode({ revision: change.revision, time: time(change.time), head_hash: change.headHash });
  for (const view of delivery.events) writeEvent(writer, view, registry);
  return Buffer.from(writer.finish());
}

/** The unfiltered encoding of a change, made once for every watcher that takes it whole. */
export function wholeEncoding(delivery: WatchDelivery, registry: Registry): Buffer {
  const change = delivery.change as RevisionChange & { memo?: Buffer };
  change.memo ??= encodeDelivery(delivery, registry);
  return change.memo as Buffer;
}

/** The last progress message encoded: one progress tick sends the same one to every watcher due. */
let lastProgress: { revision: number; headHash: string; bytes: Buffer } | undefined;

export function progressEncoding(revision: number, headHash: string): Buffer {
  if (lastProgress?.revision !== revision || lastProgress.headHash !== headHash) {
    lastProgress = { revision, headHash, bytes: encodeWatchResponse({ revision: String(revision), head_hash: headHash, progress: true }) };
  }
  return lastProgress.bytes;
}
