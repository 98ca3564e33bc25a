// SyncHost's response serializer, written by hand (issue 7).
//
// Every SyncHost answers with a SyncHostResponse: a revision, the host (name, labels, revisions,
// four timestamps, state) and the sync's counts. protobufjs's serializer (proto/load.ts) turns
// the handler's object into a message first (`fromObject`: every int64 decimal string through
// `long`, a message object per timestamp), then encodes it through a Writer that allocates an
// operation per field; at 10,000 syncs that was ~80 MB of garbage per registration and a few
// percent of the event loop. Here the same object is written field by field into one reused
// scratch buffer through wire-writer.ts (which owns the wire format's primitives: keys, varints,
// strings, nested lengths), then copied out. This file owns only SyncHostResponse's layout
// (field numbers and order) and protobufjs's rules for the handler's object.
//
// The bytes are protobufjs's, byte for byte (test/sync-host-encoding.test.ts compares the two
// on random responses): fields in number order, a field written whenever the object holds it
// (zeros and empty strings too, as protobufjs does for a field present in the object), map
// entries in the object's key order with both key and value written, a negative int64 or
// int32 as ten bytes. A host's shared budgets (rare; none in the bench's fleet) are each
// encoded by protobufjs and embedded. Anything this encoder does not expect (an int64 that is
// not the decimal text of a safe integer, an unknown state name, a `__proto__` label key) is
// left to protobufjs's serializer, which decides it as before.

import type * as grpc from '@grpc/grpc-js';
import { protoRoot, protoType } from '../../proto/load.ts';
import { WireWriter } from './wire-writer.ts';

interface TimestampObject {
  readonly seconds?: string | null;
  readonly nanos?: number | null;
}

interface HostObject {
  readonly name?: string | null;
  readonly labels?: Readonly<Record<string, string>> | null;
  readonly revision?: string | null;
  readonly create_revision?: string | null;
  readonly create_time?: TimestampObject | null;
  readonly update_time?: TimestampObject | null;
  readonly last_sync_time?: TimestampObject | null;
  readonly device_count?: number | null;
  readonly state?: string | null;
  readonly draining?: boolean | null;
  readonly lease_expire_time?: TimestampObject | null;
  readonly budgets?: readonly object[] | null;
}

/** The object registry-service.ts's SyncHost handler answers with (proto-loader's shape). */
export interface SyncHostResponseObject {
  readonly revision?: string | null;
  readonly host?: HostObject | null;
  readonly changed?: boolean | null;
  readonly devices_created?: number | null;
  readonly devices_updated?: number | null;
  readonly devices_deleted?: number | null;
  readonly head_hash?: string | null;
}

/** Thrown inside the encoder when protobufjs's serializer must decide. */
const GENERIC = Symbol('generic');

let hostStates: Readonly<Record<string, number>> | undefined;
function hostStateNumber(name: unknown): number {
  if (typeof name !== 'string') throw GENERIC; // a number: protobufjs's rules for it are its own
  hostStates ??= protoRoot().lookupEnum('devcompat.v1.HostState').values;
  const number = Object.prototype.hasOwnProperty.call(hostStates, name) ? hostStates[name] : undefined;
  if (number === undefined) throw GENERIC;
  return number;
}

/**
 * An int64 given as decimal text: its value, when the text is a safe integer's own (what
 * `String(n)` gives: no sign but a minus, no leading zero, no `-0`), read without allocating.
 */
function int64Of(text: string): number {
  const length = text.length;
  const negative = text.charCodeAt(0) === 0x2d;
  const first = negative ? 1 : 0;
  if (length === first || length > first + 16) throw GENERIC;
  if (text.charCodeAt(first) === 0x30 && length > first + 1) throw GENERIC;
  let value = 0;
  for (let i = first; i < length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) throw GENERIC;
    value = value * 10 + digit;
  }
  // Past 2^53 the sum may round, but never below 2^53.
  if (value > Number.MAX_SAFE_INTEGER || (negative && value === 0)) throw GENERIC;
  return negative ? -value : value;
}

// Field numbers (registry.proto: SyncHostResponse, Host; timestamp.proto).
const RESPONSE_REVISION = 1;
const RESPONSE_HOST = 2;
const RESPONSE_CHANGED = 3;
const RESPONSE_DEVICES_CREATED = 4;
const RESPONSE_DEVICES_UPDATED = 5;
const RESPONSE_DEVICES_DELETED = 6;
const RESPONSE_HEAD_HASH = 7;
const HOST_NAME = 1;
const HOST_LABELS = 2;
const HOST_REVISION = 3;
const HOST_CREATE_REVISION = 4;
const HOST_CREATE_TIME = 5;
const HOST_UPDATE_TIME = 6;
const HOST_LAST_SYNC_TIME = 7;
const HOST_DEVICE_COUNT = 8;
const HOST_STATE = 9;
const HOST_DRAINING = 10;
const HOST_LEASE_EXPIRE_TIME = 11;
const HOST_BUDGETS = 12;
const MAP_KEY = 1;
const MAP_VALUE = 2;
const TIMESTAMP_SECONDS = 1;
const TIMESTAMP_NANOS = 2;

/** The scratch every response is written into (wire-writer.ts), then copied out. */
const scratch = new WireWriter();

function writeTimestamp(writer: WireWriter, field: number, time: TimestampObject | null | undefined): void {
  if (time == null) return;
  if (typeof time !== 'object') throw GENERIC;
  const start = writer.begin(field);
  if (time.seconds != null) writer.integerAlways(TIMESTAMP_SECONDS, int64Of(String(time.seconds)));
  if (time.nanos != null) writer.integerAlways(TIMESTAMP_NANOS, time.nanos | 0);
  writer.end(start);
}

function writeLabels(writer: WireWriter, labels: Readonly<Record<string, unknown>>): void {
  if (typeof labels !== 'object') throw GENERIC;
  const keys = Object.keys(labels);
  // protobufjs copies the map into a plain object, where `__proto__` would not be a key.
  if (keys.includes('__proto__')) throw GENERIC;
  for (const key of keys) {
    const start = writer.begin(HOST_LABELS);
    writer.stringAlways(MAP_KEY, key).stringAlways(MAP_VALUE, String(labels[key]));
    writer.end(start);
  }
}

function writeBudgets(writer: WireWriter, budgets: readonly object[]): void {
  if (!Array.isArray(budgets)) throw GENERIC;
  if (budgets.length === 0) return;
  const type = protoType('devcompat.v1.BudgetStatus');
  for (const budget of budgets) writer.bytes(HOST_BUDGETS, type.encode(type.fromObject(budget as Record<string, unknown>)).finish());
}

function writeHost(writer: WireWriter, host: HostObject): void {
  if (typeof host !== 'object') throw GENERIC;
  const start = writer.begin(RESPONSE_HOST);
  if (host.name != null) writer.stringAlways(HOST_NAME, String(host.name));
  if (host.labels != null) writeLabels(writer, host.labels);
  if (host.revision != null) writer.integerAlways(HOST_REVISION, int64Of(String(host.revision)));
  if (host.create_revision != null) writer.integerAlways(HOST_CREATE_REVISION, int64Of(String(host.create_revision)));
  writeTimestamp(writer, HOST_CREATE_TIME, host.create_time);
  writeTimestamp(writer, HOST_UPDATE_TIME, host.update_time);
  writeTimestamp(writer, HOST_LAST_SYNC_TIME, host.last_sync_time);
  if (host.device_count != null) writer.integerAlways(HOST_DEVICE_COUNT, host.device_count >>> 0);
  if (host.state != null) writer.integerAlways(HOST_STATE, hostStateNumber(host.state));
  if (host.draining != null) writer.boolAlways(HOST_DRAINING, Boolean(host.draining));
  writeTimestamp(writer, HOST_LEASE_EXPIRE_TIME, host.lease_expire_time);
  if (host.budgets != null) writeBudgets(writer, host.budgets);
  writer.end(start);
}

function writeCount(writer: WireWriter, field: number, value: number | null | undefined): void {
  if (value != null) writer.integerAlways(field, value >>> 0);
}

/**
 * `message` encoded as protobufjs encodes it (a SyncHostResponse), or undefined when
 * protobufjs's serializer must decide (see the header).
 */
export function encodeSyncHostResponse(message: SyncHostResponseObject): Buffer | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const writer = scratch.reset();
  try {
    if (message.revision != null) writer.integerAlways(RESPONSE_REVISION, int64Of(String(message.revision)));
    if (message.host != null) writeHost(writer, message.host);
    if (message.changed != null) writer.boolAlways(RESPONSE_CHANGED, Boolean(message.changed));
    writeCount(writer, RESPONSE_DEVICES_CREATED, message.devices_created);
    writeCount(writer, RESPONSE_DEVICES_UPDATED, message.devices_updated);
    writeCount(writer, RESPONSE_DEVICES_DELETED, message.devices_deleted);
    if (message.head_hash != null) writer.stringAlways(RESPONSE_HEAD_HASH, String(message.head_hash));
  } catch {
    // GENERIC, or protobufjs refusing a budget: its serializer decides the whole message.
    return undefined;
  }
  return writer.take();
}

/** SyncHost's method definition with this encoder in front of `definition`'s own serializer. */
export function encodingSyncHostResponse<T extends grpc.MethodDefinition<unknown, unknown>>(definition: T): T {
  const generic = definition.responseSerialize;
  return {
    ...definition,
    responseSerialize: (value: unknown) => encodeSyncHostResponse(value as SyncHostResponseObject) ?? generic(value),
  };
}
