// FindTargets' answers on the client, decoded by hand for the hot path: a search streams up to
// its limit of targets, each with its verdict, and decoding them with protobufjs cost the client
// more CPU than the server spent finding them (the bench's find phase: the load generator at
// 84-91% of a core, the server at 61-70%). Produces exactly what the shared loader's deserializer
// produces (test/find-targets-codec.test.ts compares both).
//
// FindTargetsResponse { target = 1: FoundTarget { name 1, rank 2, result 3, capacity 4, exact 5,
// host_state 6, claimed 7 } | summary = 2 }: a target's fields are read here, its verdict through
// the memo of result bodies (client/result-memo.ts); the summary, and anything unexpected (an
// unknown field or wire type, an enum value this client does not know), go to protobufjs.

import { PROTO_LOADER_OPTIONS, protoRoot, protoType } from '../proto/load.ts';
import type { FindTargetsResponse__Output } from '../proto/generated/devcompat/v1/FindTargetsResponse.ts';
import type { FoundTarget__Output } from '../proto/generated/devcompat/v1/FoundTarget.ts';
import { decodeResult } from './result-memo.ts';
import { cursor, readVarint } from '../proto/varint.ts';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** HostState's names by number, as the loader (enums: String) gives them. */
let hostStates: Record<number, string> | undefined;
function hostStateName(value: number): string | undefined {
  hostStates ??= protoRoot().lookupEnum('devcompat.v1.HostState').valuesById;
  return hostStates[value];
}

/** Capacity { total 1, available 2 } from `buf[from, to)`, or undefined for anything else. */
function capacityOf(buf: Buffer, from: number, to: number): { total: number; available: number } | undefined {
  let total = 0;
  let available = 0;
  let pos = from;
  while (pos < to) {
    const tag = readVarint(buf, pos, to);
    if (tag !== ((1 << 3) | WIRE_VARINT) && tag !== ((2 << 3) | WIRE_VARINT)) return undefined;
    const value = readVarint(buf, cursor, to);
    if (value < 0 || value > 0xffffffff) return undefined;
    pos = cursor;
    if (tag >>> 3 === 1) total = value;
    else available = value;
  }
  return { total, available };
}

/** One FoundTarget from `buf[from, to)`, or undefined when protobufjs must decode it. */
function foundTarget(buf: Buffer, from: number, to: number): FoundTarget__Output | undefined {
  let name = '';
  let rank = 0;
  let result: Record<string, unknown> | null = null;
  let capacity: { total: number; available: number } | null = null;
  let exact = false;
  let hostState = 'HOST_STATE_UNSPECIFIED';
  let claimed = 0;
  let pos = from;
  while (pos < to) {
    const tag = readVarint(buf, pos, to);
    if (tag < 0) return undefined;
    const number = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_LEN) {
      const length = readVarint(buf, cursor, to);
      const valueFrom = cursor;
      if (length < 0 || valueFrom + length > to) return undefined;
      pos = valueFrom + length;
      // A repeated message field (result, capacity) is merged by protobufjs: left to it. A
      // repeated scalar's last value wins, here as there.
      if (number === 1) name = buf.toString('utf8', valueFrom, pos);
      else if (number === 3 && result === null) {
        const decoded = decodeResult(buf, valueFrom, pos);
        if (!decoded) return undefined;
        result = decoded;
      } else if (number === 4 && capacity === null) {
        const decoded = capacityOf(buf, valueFrom, pos);
        if (!decoded) return undefined;
        capacity = decoded;
      } else return undefined;
    } else if (wire === WIRE_VARINT) {
      const value = readVarint(buf, cursor, to);
      if (value < 0 || value > 0xffffffff) return undefined;
      pos = cursor;
      if (number === 2) rank = value;
      else if (number === 5 && value <= 1) exact = value === 1;
      else if (number === 6) {
        const known = hostStateName(value);
        if (known === undefined) return undefined;
        hostState = known;
      } else if (number === 7) claimed = value;
      else return undefined;
    } else return undefined;
  }
  return { name, rank, result, capacity, exact, host_state: hostState, claimed } as unknown as FoundTarget__Output;
}

/** A FindTargetsResponse, as the loader's deserializer decodes it. */
export function decodeFindTargetsResponse(buf: Buffer): FindTargetsResponse__Output {
  const end = buf.length;
  const tag = readVarint(buf, 0, end);
  if (tag === ((1 << 3) | WIRE_LEN)) {
    const length = readVarint(buf, cursor, end);
    const from = cursor;
    // One target filling the message; anything after it (a second item) is protobufjs's.
    if (length >= 0 && from + length === end) {
      const target = foundTarget(buf, from, end);
      if (target) return { target, item: 'target' } as FindTargetsResponse__Output;
    }
  }
  const type = protoType('devcompat.v1.FindTargetsResponse');
  return type.toObject(type.decode(buf), PROTO_LOADER_OPTIONS) as FindTargetsResponse__Output;
}
