// The protocol-buffers varint of a non-negative integer (a length, a revision: up to 2^53), for
// the hand-written codecs: written into one buffer sized first by the server's streamed checks
// (server/grpc/verdict-encoding.ts) and the client's check requests (client/check-stream-codec.ts),
// read by the client's answer decoders (client/result-memo.ts, check-stream-codec.ts,
// find-targets-codec.ts). (server/grpc/wire-writer.ts writes its own, negative integers
// included, as it goes; the server's request decoders read theirs with their own bounds.)
// Dependency-free.

const TWO_31 = 2 ** 31;

/** How many bytes the varint of `value` (0 <= value < 2^53) takes. */
export function varintLength(value: number): number {
  let length = 1;
  if (value < TWO_31) {
    for (let rest = value; rest >= 0x80; rest >>>= 7) length++;
  } else {
    for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  }
  return length;
}

/** Writes the varint of `value` (0 <= value < 2^53) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let rest = value;
  if (rest < TWO_31) {
    while (rest >= 0x80) {
      buf[pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
  } else {
    while (rest >= 0x80) {
      buf[pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
  }
  buf[pos++] = rest;
  return pos;
}

/**
 * A varint from `buf[pos, end)`: its value, with the next position left in `cursor` (no tuple
 * allocated); -1 when it runs past `end` or takes 8 bytes or more (beyond 2^49).
 */
export function readVarint(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) return -1;
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor = pos;
      return value;
    }
    scale *= 128;
  }
  return -1; // 8 bytes or more (beyond 2^49), or malformed: the slow path decides
}

/** Where the last readVarint stopped. */
export let cursor = 0;
