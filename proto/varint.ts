// The protocol-buffers varint of a non-negative integer (a length, a revision: up to 2^53), for
// the codecs that write their messages into one buffer sized first: the server's streamed checks
// (server/grpc/verdict-encoding.ts) and the client's check requests (client/check-stream-codec.ts).
// (server/grpc/wire-writer.ts writes its own, negative integers included, as it goes.)
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
