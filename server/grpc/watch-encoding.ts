// The watch feed's messages as bytes (WatchResponse), encoded once per revision for every
// watcher that takes it whole (the memo on the change), and a progress tick's once for every
// watcher due. Two savings over building the message as proto-loader objects and encoding it
// with `fromObject` + `encode`:
//   - a device's state carries its descriptor (vendor, type, attributes, rules: most of an
//     event's encoding work), and a fleet has few distinct descriptors while every device change
//     carries two device states: each descriptor is encoded once, kept with it (a WeakMap, gone
//     with the descriptor), and written as bytes into the device's message;
//   - the response, its events and the devices (the messages of every revision) are written
//     field by field into one reused scratch buffer (wire-writer.ts), with no protobufjs
//     objects, operations or `fromObject` conversion in between; host and claim states, rarer,
//     are encoded by protobufjs from the loader's objects and written in as bytes.
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
import { entryResourceName, snapshotMessage } from './convert.ts';
import { WireWriter } from './wire-writer.ts';

// Field numbers (watch.proto, history.proto, registry.proto, descriptor.proto, timestamp.proto).
const WATCH_RESPONSE_REVISION = 1;
const WATCH_RESPONSE_TIME = 2;
const WATCH_RESPONSE_EVENTS = 3;
const WATCH_RESPONSE_HEAD_HASH = 4;
const WATCH_EVENT_KIND = 1;
const WATCH_EVENT_RESOURCE = 2;
const WATCH_EVENT_BEFORE = 3;
const WATCH_EVENT_AFTER = 4;
const WATCH_EVENT_ACTOR = 5;
const WATCH_EVENT_REASON = 6;
const WATCH_EVENT_LEFT_FILTER = 7;
const WATCH_EVENT_ENTERED_FILTER = 8;
const RESOURCE_STATE_DEVICE = 2;
const DEVICE_NAME = 1;
const DEVICE_DESCRIPTOR = 2;
const DEVICE_CAPACITY = 3;
const DEVICE_LABELS = 4;
const DEVICE_REVISION = 5;
const DEVICE_CREATE_REVISION = 6;
const DEVICE_CREATE_TIME = 7;
const DEVICE_UPDATE_TIME = 8;
const CAPACITY_TOTAL = 1;
const CAPACITY_AVAILABLE = 2;
const MAP_KEY = 1;
const MAP_VALUE = 2;
const TIMESTAMP_SECONDS = 1;
const TIMESTAMP_NANOS = 2;

let cachedTypes:
  | { response: protobuf.Type; state: protobuf.Type; descriptor: protobuf.Type; changeKind: Record<string, number> }
  | undefined;

const types = () =>
  (cachedTypes ??= {
    response: protoType('devcompat.v1.WatchResponse'),
    state: protoType('devcompat.v1.ResourceState'),
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

/**
 * The descriptor last written in the message being encoded: a device changed in place has the
 * same descriptor before and after, looked up once (in the server's large heap the two lookups,
 * the registry's and the kept bytes', cost more than the rest of a device's state). Reset for
 * every message, so it never outlives the registry's answer it was taken from.
 */
let lastDescriptorId = 0;
let lastDescriptorBytes: Uint8Array | undefined;

function descriptorOfMessage(id: number, registry: Registry): Uint8Array {
  if (lastDescriptorBytes !== undefined && lastDescriptorId === id) return lastDescriptorBytes;
  lastDescriptorId = id;
  return (lastDescriptorBytes = encodedDescriptor(registry.descriptorById(id)));
}

/** The scratch every revision's message is written into (wire-writer.ts), then copied out. */
const scratch = new WireWriter();

/** Field `field`: a google.protobuf.Timestamp of `ms` as convert.ts's `timestamp` has it (present even at 0, as a message field is). */
function writeTime(writer: WireWriter, field: number, ms: number): void {
  const start = writer.begin(field);
  writer.integer(TIMESTAMP_SECONDS, Math.floor(ms / 1000)).integer(TIMESTAMP_NANOS, (ms % 1000) * 1_000_000);
  writer.end(start);
}

/** Field `field` of a WatchEvent: a ResourceState, a device's written field by field with its descriptor's kept bytes. */
function writeState(writer: WireWriter, field: number, snapshot: ResourceSnapshot | undefined, registry: Registry): void {
  if (!snapshot) return;
  if (snapshot.kind !== 'device') {
    // Host and claim states (rarer) as protobufjs encodes them from the loader's objects.
    const { state } = types();
    writer.bytes(field, state.encode(state.fromObject(snapshotMessage(snapshot, registry)!)).finish());
    return;
  }
  const record = snapshot.device;
  const stateStart = writer.begin(field);
  const deviceStart = writer.begin(RESOURCE_STATE_DEVICE);
  // Device's fields, as deviceMessage (convert.ts) has them.
  writer.string(DEVICE_NAME, deviceName(record.hostId, record.deviceId));
  writer.bytes(DEVICE_DESCRIPTOR, descriptorOfMessage(record.descriptorId, registry));
  if (record.capacity) {
    const capacityStart = writer.begin(DEVICE_CAPACITY);
    writer.integer(CAPACITY_TOTAL, record.capacity.total).integer(CAPACITY_AVAILABLE, record.capacity.available);
    writer.end(capacityStart);
  }
  const labels = record.labels;
  for (const key in labels) {
    const entryStart = writer.begin(DEVICE_LABELS);
    writer.stringAlways(MAP_KEY, key).stringAlways(MAP_VALUE, labels[key]);
    writer.end(entryStart);
  }
  writer.integer(DEVICE_REVISION, record.revision).integer(DEVICE_CREATE_REVISION, record.createRevision);
  writeTime(writer, DEVICE_CREATE_TIME, record.createTime);
  writeTime(writer, DEVICE_UPDATE_TIME, record.updateTime);
  writer.end(deviceStart);
  writer.end(stateStart);
}

function writeEvent(writer: WireWriter, view: WatchEventView, registry: Registry): void {
  const { entry } = view;
  const start = writer.begin(WATCH_RESPONSE_EVENTS);
  writer.integer(WATCH_EVENT_KIND, types().changeKind[`CHANGE_KIND_${view.kind}`]);
  writer.string(WATCH_EVENT_RESOURCE, entryResourceName(entry));
  writeState(writer, WATCH_EVENT_BEFORE, entry.before, registry);
  writeState(writer, WATCH_EVENT_AFTER, entry.after, registry);
  writer.string(WATCH_EVENT_ACTOR, entry.actor).string(WATCH_EVENT_REASON, entry.reason);
  writer.bool(WATCH_EVENT_LEFT_FILTER, view.leftFilter).bool(WATCH_EVENT_ENTERED_FILTER, view.enteredFilter);
  writer.end(start);
}

/** One revision's events as a watcher sees them. */
export function encodeDelivery(delivery: WatchDelivery, registry: Registry): Buffer {
  const { change } = delivery;
  const writer = scratch.reset();
  lastDescriptorBytes = undefined;
  writer.integer(WATCH_RESPONSE_REVISION, change.revision);
  writeTime(writer, WATCH_RESPONSE_TIME, change.time);
  for (const view of delivery.events) writeEvent(writer, view, registry);
  writer.string(WATCH_RESPONSE_HEAD_HASH, change.headHash);
  return writer.take();
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
