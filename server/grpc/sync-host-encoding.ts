// SyncHost's response serializer, written by hand (issue 7).
//
// Every SyncHost answers with a SyncHostResponse: a revision, the host (name, labels, revisions,
// four timestamps, state) and the sync's counts. protobufjs's serializer (proto/load.ts) turns
// the handler's object into a message first (`fromObject`: every int64 decimal string through
// `long`, a message object per timestamp), then encodes it through a Writer that allocates an
// operation per field; at 10,000 syncs that was ~80 MB of garbage per registration and a few
// percent of the event loop. Here the same object is measured once and written straight into
// one buffer.
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

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
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

/** Bytes of an int64 or int32 varint: a negative value is its 64-bit two's complement, ten bytes. */
function signedVarintSize(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

/** Sizes of the host's nested parts, computed by the measuring pass and used by the writing pass. */
interface Measured {
  /** The host message's length. */
  host: number;
  /** Each shared budget's encoding (protobufjs's). */
  budgets: Uint8Array[];
}

class Output {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.pos++] = rest;
  }

  signedVarint(value: number): void {
    if (value >= 0) return this.varint(value);
    let rest = BigInt.asUintN(64, BigInt(value));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buf[this.pos++] = Number(rest);
  }

  string(tag: number, text: string, bytes: number): void {
    this.buf[this.pos++] = tag;
    this.varint(bytes);
    if (bytes === text.length) {
      // ASCII (any other character takes more UTF-8 bytes than UTF-16 units): copied as is.
      for (let i = 0; i < bytes; i++) this.buf[this.pos + i] = text.charCodeAt(i);
      this.pos += bytes;
    } else this.pos += this.buf.write(text, this.pos, bytes, 'utf8');
  }

  bytes(tag: number, data: Uint8Array): void {
    this.buf[this.pos++] = tag;
    this.varint(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
}

function stringSize(text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  return 1 + varintSize(bytes) + bytes;
}

function timestampBodySize(time: TimestampObject): number {
  let size = 0;
  if (time.seconds != null) size += 1 + signedVarintSize(int64Of(String(time.seconds)));
  if (time.nanos != null) size += 1 + signedVarintSize(time.nanos | 0);
  return size;
}

function timestampSize(time: TimestampObject | null | undefined): number {
  if (time == null) return 0;
  if (typeof time !== 'object') throw GENERIC;
  const body = timestampBodySize(time);
  return 1 + varintSize(body) + body;
}

function labelEntrySize(key: string, value: string): number {
  const body = stringSize(key) + stringSize(value);
  return 1 + varintSize(body) + body;
}

function labelsOf(labels: Readonly<Record<string, unknown>>): string[] {
  const keys = Object.keys(labels);
  // protobufjs copies the map into a plain object, where `__proto__` would not be a key.
  if (keys.includes('__proto__')) throw GENERIC;
  return keys;
}

function hostSize(host: HostObject, measured: Measured): number {
  let size = 0;
  if (host.name != null) size += stringSize(String(host.name));
  if (host.labels != null) {
    if (typeof host.labels !== 'object') throw GENERIC;
    for (const key of labelsOf(host.labels)) size += labelEntrySize(key, String(host.labels[key]));
  }
  if (host.revision != null) size += 1 + signedVarintSize(int64Of(String(host.revision)));
  if (host.create_revision != null) size += 1 + signedVarintSize(int64Of(String(host.create_revision)));
  size += timestampSize(host.create_time) + timestampSize(host.update_time) + timestampSize(host.last_sync_time);
  if (host.device_count != null) size += 1 + varintSize(host.device_count >>> 0);
  if (host.state != null) size += 1 + signedVarintSize(hostStateNumber(host.state));
  if (host.draining != null) size += 2;
  size += timestampSize(host.lease_expire_time);
  if (host.budgets != null) {
    if (!Array.isArray(host.budgets)) throw GENERIC;
    if (host.budgets.length > 0) {
      const type = protoType('devcompat.v1.BudgetStatus');
      for (const budget of host.budgets) {
        const encoded = type.encode(type.fromObject(budget as Record<string, unknown>)).finish();
        measured.budgets.push(encoded);
        size += 1 + varintSize(encoded.length) + encoded.length;
      }
    }
  }
  return size;
}

function messageSize(message: SyncHostResponseObject, measured: Measured): number {
  let size = 0;
  if (message.revision != null) size += 1 + signedVarintSize(int64Of(String(message.revision)));
  if (message.host != null) {
    if (typeof message.host !== 'object') throw GENERIC;
    measured.host = hostSize(message.host, measured);
    size += 1 + varintSize(measured.host) + measured.host;
  }
  if (message.changed != null) size += 2;
  if (message.devices_created != null) size += 1 + varintSize(message.devices_created >>> 0);
  if (message.devices_updated != null) size += 1 + varintSize(message.devices_updated >>> 0);
  if (message.devices_deleted != null) size += 1 + varintSize(message.devices_deleted >>> 0);
  if (message.head_hash != null) size += stringSize(String(message.head_hash));
  return size;
}

function writeString(out: Output, tag: number, text: string): void {
  out.string(tag, text, Buffer.byteLength(text, 'utf8'));
}

function writeTimestamp(out: Output, tag: number, time: TimestampObject | null | undefined): void {
  if (time == null) return;
  out.buf[out.pos++] = tag;
  out.varint(timestampBodySize(time));
  if (time.seconds != null) {
    out.buf[out.pos++] = 0x08;
    out.signedVarint(int64Of(String(time.seconds)));
  }
  if (time.nanos != null) {
    out.buf[out.pos++] = 0x10;
    out.signedVarint(time.nanos | 0);
  }
}

function writeHost(out: Output, host: HostObject, measured: Measured): void {
  if (host.name != null) writeString(out, 0x0a, String(host.name));
  if (host.labels != null) {
    for (const key of Object.keys(host.labels)) {
      const value = String(host.labels[key]);
      const keyBytes = Buffer.byteLength(key, 'utf8');
      const valueBytes = Buffer.byteLength(value, 'utf8');
      out.buf[out.pos++] = 0x12;
      out.varint(1 + varintSize(keyBytes) + keyBytes + 1 + varintSize(valueBytes) + valueBytes);
      out.string(0x0a, key, keyBytes);
      out.string(0x12, value, valueBytes);
    }
  }
  if (host.revision != null) {
    out.buf[out.pos++] = 0x18;
    out.signedVarint(int64Of(String(host.revision)));
  }
  if (host.create_revision != null) {
    out.buf[out.pos++] = 0x20;
    out.signedVarint(int64Of(String(host.create_revision)));
  }
  writeTimestamp(out, 0x2a, host.create_time);
  writeTimestamp(out, 0x32, host.update_time);
  writeTimestamp(out, 0x3a, host.last_sync_time);
  if (host.device_count != null) {
    out.buf[out.pos++] = 0x40;
    out.varint(host.device_count >>> 0);
  }
  if (host.state != null) {
    out.buf[out.pos++] = 0x48;
    out.signedVarint(hostStateNumber(host.state));
  }
  if (host.draining != null) {
    out.buf[out.pos++] = 0x50;
    out.buf[out.pos++] = host.draining ? 1 : 0;
  }
  writeTimestamp(out, 0x5a, host.lease_expire_time);
  for (const budget of measured.budgets) out.bytes(0x62, budget);
}

function writeCount(out: Output, tag: number, value: number | null | undefined): void {
  if (value == null) return;
  out.buf[out.pos++] = tag;
  out.varint(value >>> 0);
}

/**
 * `message` encoded as protobufjs encodes it (a SyncHostResponse), or undefined when
 * protobufjs's serializer must decide (see the header).
 */
export function encodeSyncHostResponse(message: SyncHostResponseObject): Buffer | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const measured: Measured = { host: 0, budgets: [] };
  let size: number;
  try {
    size = messageSize(message, measured);
  } catch {
    // GENERIC, or protobufjs refusing a budget: its serializer decides the whole message.
    return undefined;
  }
  const out = new Output(Buffer.allocUnsafe(size));
  if (message.revision != null) {
    out.buf[out.pos++] = 0x08;
    out.signedVarint(int64Of(String(message.revision)));
  }
  if (message.host != null) {
    out.buf[out.pos++] = 0x12;
    out.varint(measured.host);
    writeHost(out, message.host, measured);
  }
  if (message.changed != null) {
    out.buf[out.pos++] = 0x18;
    out.buf[out.pos++] = message.changed ? 1 : 0;
  }
  writeCount(out, 0x20, message.devices_created);
  writeCount(out, 0x28, message.devices_updated);
  writeCount(out, 0x30, message.devices_deleted);
  if (message.head_hash != null) writeString(out, 0x3a, String(message.head_hash));
  if (out.pos !== size) throw new Error(`SyncHostResponse encoding: wrote ${out.pos} bytes, measured ${size}`);
  return out.buf;
}

/** SyncHost's method definition with this encoder in front of `definition`'s own serializer. */
export function encodingSyncHostResponse<T extends grpc.MethodDefinition<unknown, unknown>>(definition: T): T {
  const generic = definition.responseSerialize;
  return {
    ...definition,
    responseSerialize: (value: unknown) => encodeSyncHostResponse(value as SyncHostResponseObject) ?? generic(value),
  };
}
