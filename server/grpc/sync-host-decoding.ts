// SyncHost's request deserializer, memoized by each descriptor's encoded bytes (issue 7).
//
// Fleets are repetitive: 10,000 hosts send 160,000 descriptors of which a few hundred are
// distinct, and each SyncHost carries its host's whole state. Decoding every descriptor with
// protobufjs, walking it for strict input (strict-decoding.ts) and converting it to an object
// was the largest cost of a sync on the event loop. Here a SyncHostRequest is walked once by
// hand; each descriptor's bytes are looked up in a bounded LRU memo first, and only a miss is
// checked (`checkWire`) and decoded by protobufjs with proto-loader's options. A hit returns the
// same frozen object, which also lets the validation memo (core/descriptor-memo.ts) find its
// canonical Descriptor by identity instead of by its JSON text. A device's label map is shared
// the same way (`LabelsBytesMemo`, by the bytes of its entries): the label validation and the
// live state's interning then find their result by identity too.
// Most devices repeat the descriptor and the labels of the device before them (83% and 81% of
// the bench fleet's): each memo first compares the bytes with the entry it looked up last,
// which is a hit without a key string or a move in the Map.
//
// Strictness is unchanged: the fast path only returns a message when every string it read is
// valid UTF-8, every length and varint is in bounds, and every field is one it knows with its
// expected wire type; anything else (a truncated message, invalid UTF-8, an unknown field,
// budgets, a 64-bit value beyond 2^53) goes to the strict generic deserializer, which answers
// exactly as before (the same message, or the same RefusedRequest naming the field). The
// result equals proto-loader's (test/sync-host-decoding.test.ts compares the two).

import type * as grpc from '@grpc/grpc-js';
import { isUtf8 } from 'node:buffer';
import type protobuf from 'protobufjs';
import { PROTO_LOADER_OPTIONS, protoRoot } from '../../proto/load.ts';
import { immutableDescriptorInput } from '../core/descriptor-memo.ts';
import { checkWire } from './strict-decoding.ts';

/** Bounds of the descriptor memo: entries, and encoded bytes held as keys. */
export interface DescriptorMemoLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export const DEFAULT_DESCRIPTOR_MEMO_LIMITS: DescriptorMemoLimits = { maxEntries: 8192, maxBytes: 8 * 1024 * 1024 };

/**
 * Adds `value` under `key` (bytes as latin1) to a memo holding `bytes` of keys, then drops the
 * oldest entries until it is within `limits`; a key larger than the byte bound is not kept.
 * Returns the bytes held after.
 */
function keepBounded<V>(entries: Map<string, V>, key: string, value: V, bytes: number, limits: DescriptorMemoLimits): number {
  if (key.length > limits.maxBytes) return bytes;
  entries.set(key, value);
  let held = bytes + key.length;
  for (const [oldest] of entries) {
    if (entries.size <= limits.maxEntries && held <= limits.maxBytes) break;
    entries.delete(oldest);
    held -= oldest.length;
  }
  return held;
}

/** Whether `buf[from, to)` are the bytes of `key` (bytes as latin1), compared without making a string. */
function sameBytes(key: string, buf: Buffer, from: number, to: number): boolean {
  if (key.length !== to - from) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== buf[from + i]) return false;
  return true;
}

/** Decoded descriptors by their encoded bytes (a latin1 string of them), least recently used first. */
export class DescriptorBytesMemo {
  private readonly entries = new Map<string, object>();
  private bytes = 0;
  /** The entry looked up or added last (the newest in `entries`), while it is held. */
  private last: { readonly key: string; readonly value: object } | undefined;
  hits = 0;
  misses = 0;

  constructor(
    private readonly type: protobuf.Type,
    readonly limits: DescriptorMemoLimits = DEFAULT_DESCRIPTOR_MEMO_LIMITS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The decoded descriptor of `buf[from, to)`, or undefined when those bytes are not a valid one. */
  decode(buf: Buffer, from: number, to: number): object | undefined {
    // A host's devices mostly repeat the descriptor before them (83% of the bench fleet's): the
    // entry looked up last is already the most recently used, so the same bytes again are a
    // hit found without a key string or a move in the Map.
    const last = this.last;
    if (last !== undefined && sameBytes(last.key, buf, from, to)) {
      this.hits++;
      return last.value;
    }
    this.last = undefined;
    const key = buf.toString('latin1', from, to);
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.hits++;
      // Most recently used last; a Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.last = { key, value: hit };
      return hit;
    }
    this.misses++;
    const bytes = buf.subarray(from, to);
    if (checkWire(this.type, bytes)) return undefined;
    let decoded: object;
    try {
      decoded = immutableDescriptorInput(this.type.toObject(this.type.decode(bytes), PROTO_LOADER_OPTIONS as protobuf.IConversionOptions));
    } catch {
      return undefined;
    }
    this.bytes = keepBounded(this.entries, key, decoded, this.bytes, this.limits);
    if (this.entries.get(key) === decoded) this.last = { key, value: decoded };
    return decoded;
  }
}

/**
 * Devices' label maps by their encoded bytes: a fleet's 160,000 devices carry a few dozen
 * distinct label sets. A map read again from the same bytes is the same frozen object, so the
 * validation (core/resources.ts validateLabels) and the live state's interning find their
 * result by identity instead of sorting, checking and encoding the labels again per device.
 * Bounded: past its bounds the oldest entries go.
 */
export class LabelsBytesMemo {
  private readonly entries = new Map<string, Readonly<Record<string, string>>>();
  private bytes = 0;
  /** The entry `get` found or `remember` kept last, while it is held. */
  private last: { readonly key: string; readonly value: Readonly<Record<string, string>> } | undefined;

  constructor(readonly limits: DescriptorMemoLimits = { maxEntries: 8192, maxBytes: 1024 * 1024 }) {}

  get size(): number {
    return this.entries.size;
  }

  /** The shared map decoded before from the bytes `buf[from, to)`, if any. */
  get(buf: Buffer, from: number, to: number): Readonly<Record<string, string>> | undefined {
    // Most devices carry the labels of the device before them: found without a key string.
    const last = this.last;
    if (last !== undefined && sameBytes(last.key, buf, from, to)) return last.value;
    const key = buf.toString('latin1', from, to);
    const known = this.entries.get(key);
    this.last = known === undefined ? undefined : { key, value: known };
    return known;
  }

  /** Keeps `decoded`, just read from `buf[from, to)`, as the shared map of those bytes; returns it frozen. */
  remember(buf: Buffer, from: number, to: number, decoded: Record<string, string>): Readonly<Record<string, string>> {
    const key = buf.toString('latin1', from, to);
    const shared = Object.freeze(decoded);
    this.bytes = keepBounded(this.entries, key, shared, this.bytes, this.limits);
    // Only an entry still held may answer `get` (eviction happens here alone).
    this.last = this.entries.get(key) === shared ? { key, value: shared } : undefined;
    return shared;
  }
}

/** Thrown inside the walk when the fast path cannot answer: the generic deserializer decides. */
const FALLBACK = Symbol('fallback');

/** A DeviceSpec label entry's tag: field 4, length-delimited. */
const LABEL_ENTRY_TAG = (4 << 3) | 2;

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    from: number,
    readonly end: number,
  ) {
    this.pos = from;
  }

  /** A varint of at most 53 bits. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const byte = this.buf[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw FALLBACK;
        return value;
      }
      scale *= 128;
    }
    throw FALLBACK;
  }

  /** The bounds of a length-delimited field's payload; the position moves past it. */
  delimited(): number {
    const length = this.varint();
    const from = this.pos;
    if (from + length > this.end) throw FALLBACK;
    this.pos = from + length;
    return from;
  }

  string(): string {
    const from = this.delimited();
    const { buf, pos } = this;
    // ASCII is valid UTF-8: most strings (device ids, names, label keys) are checked byte by
    // byte here without a Buffer view made for isUtf8 (one per string: a sizeable share of
    // what a registration allocated here); a string with any other byte goes to isUtf8.
    for (let i = from; i < pos; i++) {
      if (buf[i] >= 0x80) {
        if (!isUtf8(buf.subarray(from, pos))) throw FALLBACK;
        break;
      }
    }
    return buf.toString('utf8', from, pos);
  }

  /** The next tag as [field number, wire type]; the wire type must be `expected`. */
  tag(): [number, number] {
    const tag = this.varint();
    return [Math.floor(tag / 8), tag % 8];
  }
}

function expectWire(wire: number, expected: number): void {
  if (wire !== expected) throw FALLBACK;
}

/** A map<string, string> entry into `into` (later keys win, as protobufjs does). */
function stringMapEntry(reader: Reader, into: Record<string, string>): void {
  const from = reader.delimited();
  const entry = new Reader(reader.buf, from, reader.pos);
  let key = '';
  let value = '';
  while (entry.pos < entry.end) {
    const [number, wire] = entry.tag();
    expectWire(wire, 2);
    if (number === 1) key = entry.string();
    else if (number === 2) value = entry.string();
    else throw FALLBACK;
  }
  into[key] = value;
}

function capacity(reader: Reader): { total: number; available: number } {
  const from = reader.delimited();
  const inner = new Reader(reader.buf, from, reader.pos);
  const result = { total: 0, available: 0 };
  while (inner.pos < inner.end) {
    const [number, wire] = inner.tag();
    expectWire(wire, 0);
    const value = inner.varint();
    if (value > 0xffffffff) throw FALLBACK; // uint32: protobufjs would truncate; let it
    if (number === 1) result.total = value;
    else if (number === 2) result.available = value;
    else throw FALLBACK;
  }
  return result;
}

function deviceSpec(reader: Reader, memo: DescriptorBytesMemo, labelsMemo: LabelsBytesMemo): object {
  const from = reader.delimited();
  const inner = new Reader(reader.buf, from, reader.pos);
  // proto-loader's shape and key order: maps first, then fields by number, messages null.
  const device: { labels: Record<string, string>; device_id: string; descriptor: object | null; capacity: object | null } = {
    labels: {},
    device_id: '',
    descriptor: null,
    capacity: null,
  };
  // The label entries are one run, as encoders write a map: a run read before gives its shared
  // map without being decoded again. Labels split by another field (valid protobuf, one map,
  // written by no encoder) are left to the generic deserializer.
  let labelsRead = false;
  while (inner.pos < inner.end) {
    const at = inner.pos;
    const [number, wire] = inner.tag();
    expectWire(wire, 2);
    if (number === 1) device.device_id = inner.string();
    else if (number === 2) {
      if (device.descriptor !== null) throw FALLBACK;
      const start = inner.delimited();
      const decoded = memo.decode(inner.buf, start, inner.pos);
      if (!decoded) throw FALLBACK;
      device.descriptor = decoded;
    } else if (number === 3) {
      if (device.capacity !== null) throw FALLBACK;
      device.capacity = capacity(inner);
    } else if (number === 4) {
      if (labelsRead) throw FALLBACK;
      labelsRead = true;
      const runEnd = labelRunEnd(inner.buf, at, inner.end);
      if (runEnd < 0) throw FALLBACK;
      const known = labelsMemo.get(inner.buf, at, runEnd);
      if (known) {
        device.labels = known as Record<string, string>;
        inner.pos = runEnd;
        continue;
      }
      stringMapEntry(inner, device.labels);
      while (inner.pos < runEnd) {
        inner.tag();
        stringMapEntry(inner, device.labels);
      }
      device.labels = labelsMemo.remember(inner.buf, at, runEnd, device.labels) as Record<string, string>;
    } else throw FALLBACK;
  }
  return device;
}

/** Where the run of label entries (field 4, length-delimited) starting at `from` ends; -1 when a length runs past `end`. */
function labelRunEnd(buf: Buffer, from: number, end: number): number {
  const reader = new Reader(buf, from, end);
  try {
    while (reader.pos < end) {
      const at = reader.pos;
      if (reader.varint() !== LABEL_ENTRY_TAG) return at;
      reader.delimited();
    }
    return reader.pos;
  } catch (error) {
    if (error === FALLBACK) return -1;
    throw error;
  }
}

/** The request decoded, or undefined when the generic deserializer must decide. */
export function decodeSyncHost(bytes: Buffer, memo: DescriptorBytesMemo, labelsMemo: LabelsBytesMemo = new LabelsBytesMemo()): object | undefined {
  const reader = new Reader(bytes, 0, bytes.length);
  const devices: object[] = [];
  const labels: Record<string, string> = {};
  let name = '';
  let expectedRevision: string | undefined;
  try {
    while (reader.pos < reader.end) {
      const [number, wire] = reader.tag();
      if (number === 1) {
        expectWire(wire, 2);
        name = reader.string();
      } else if (number === 2) {
        expectWire(wire, 2);
        stringMapEntry(reader, labels);
      } else if (number === 3) {
        expectWire(wire, 2);
        devices.push(deviceSpec(reader, memo, labelsMemo));
      } else if (number === 4) {
        expectWire(wire, 0);
        expectedRevision = String(reader.varint());
      } else throw FALLBACK; // budgets, and anything this walk does not know
    }
  } catch (error) {
    if (error === FALLBACK) return undefined;
    throw error;
  }
  const request: Record<string, unknown> = { devices, budgets: [], labels, name };
  if (expectedRevision !== undefined) {
    request.expected_revision = expectedRevision;
    request._expected_revision = 'expected_revision';
  }
  return request;
}

/**
 * SyncHost's method definition with the memoizing deserializer in front of `definition`'s own
 * (the strict one, which still decides every request the fast path does not take).
 */
export function memoizingSyncHost(
  definition: grpc.MethodDefinition<unknown, unknown>,
  limits: DescriptorMemoLimits = DEFAULT_DESCRIPTOR_MEMO_LIMITS,
): grpc.MethodDefinition<unknown, unknown> & {
  readonly memo: DescriptorBytesMemo;
  readonly labelsMemo: LabelsBytesMemo;
  readonly decoded: { fast: number; generic: number };
} {
  const memo = new DescriptorBytesMemo(protoRoot().lookupType('devcompat.v1.Descriptor'), limits);
  const labelsMemo = new LabelsBytesMemo();
  const generic = definition.requestDeserialize;
  const decoded = { fast: 0, generic: 0 };
  return {
    ...definition,
    memo,
    labelsMemo,
    decoded,
    requestDeserialize: (bytes: Buffer) => {
      const request = decodeSyncHost(bytes, memo, labelsMemo);
      if (request) {
        decoded.fast++;
        return request;
      }
      decoded.generic++;
      return generic(bytes);
    },
  };
}
