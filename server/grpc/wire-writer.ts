// The protocol-buffers wire format, written straight into one reused scratch buffer: the
// primitives (keys, varints, strings, bytes, nested lengths) of the watch feed's per-revision
// messages (watch-encoding.ts), of SyncHost's responses (sync-host-encoding.ts), and of a
// verdict's answer and a FindTargets target (verdict-encoding.ts). protobufjs's Writer allocates an operation
// object per field and a state per nested message, then copies them into the result at
// `finish()`; a revision's WatchResponse (an event, two device states of a dozen fields each)
// made ~40 short-lived objects per revision on the server's main thread. Here a field is
// written where it goes: a nested message or a string reserves one byte for its length, is
// written after it, and is moved right by the byte or two a length of 128 or more needs (a
// device change: its event and its two states with their devices, five moves of 250-600 bytes;
// a SyncHost response: one move, of its host when the host takes 128 bytes or more).
// Two kinds of scalar field: `integer`, `bool`, `string` leave a zero, false or empty value out
// (proto3's rule, what watch-encoding.ts writes), their `...Always` twins write it (protobufjs
// writes every field the object holds, and sync-host-encoding.ts matches its bytes).
// The output is the one encoding the protobuf rules give (minimal varints, fields in the order
// written, a negative integer in ten bytes); the caller copies it out with `take()`. Synchronous
// use only (one message at a time per writer; each encoder keeps its own). A writer's buffer
// grows to the largest message it has written and is kept: bounded by the send limit. Strings
// are written as Buffer.write writes UTF-8 (a lone surrogate as U+FFFD; strict decoding admits
// none). May import nothing.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const TWO_31 = 2 ** 31;

export class WireWriter {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private at = 0;

  /** Starts a new message (drops whatever was written). */
  reset(): this {
    this.at = 0;
    return this;
  }

  /** A copy of what was written since `reset()`. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.buf.copy(out, 0, 0, this.at);
    return out;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** A varint of an integer as int64/uint64/int32 encode it (a negative one in 10 bytes, two's complement). */
  private varint(value: number): void {
    this.room(10);
    const buf = this.buf;
    if (value >= 0 && value < TWO_31) {
      while (value > 127) {
        buf[this.at++] = (value & 127) | 128;
        value >>>= 7;
      }
      buf[this.at++] = value;
      return;
    }
    let big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
    while (big > 127n) {
      buf[this.at++] = Number(big & 127n) | 128;
      big >>= 7n;
    }
    buf[this.at++] = Number(big);
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** An integer field (int32, uint32, int64, enum); a zero is left out, as proto3 reads it back. */
  integer(field: number, value: number): this {
    if (value !== 0) {
      this.key(field, WIRE_VARINT);
      this.varint(value);
    }
    return this;
  }

  /** An integer field written even when zero (a field the message holds, as protobufjs writes it). */
  integerAlways(field: number, value: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** A bool field written even when false. */
  boolAlways(field: number, value: boolean): this {
    this.key(field, WIRE_VARINT);
    this.varint(value ? 1 : 0);
    return this;
  }

  /** A bool field; false is left out. */
  bool(field: number, value: boolean): this {
    if (value) {
      this.key(field, WIRE_VARINT);
      this.varint(1);
    }
    return this;
  }

  /** A string field; the empty string is left out. */
  string(field: number, value: string): this {
    if (value !== '') this.stringAlways(field, value);
    return this;
  }

  /** A string field written even when empty (a map entry's key and value, a field the message holds). */
  stringAlways(field: number, value: string): this {
    const start = this.begin(field);
    this.room(value.length * 3);
    this.at += this.buf.write(value, this.at);
    return this.end(start);
  }

  /** A bytes (or embedded message) field from bytes already encoded. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(value.length);
    this.room(value.length);
    this.buf.set(value, this.at);
    this.at += value.length;
    return this;
  }

  /** Fields already encoded (a cached message body), appended as they are. */
  raw(fields: Uint8Array): this {
    this.room(fields.length);
    this.buf.set(fields, this.at);
    this.at += fields.length;
    return this;
  }

  /** Opens an embedded message (or string) field: its length is written by `end`. */
  begin(field: number): number {
    this.key(field, WIRE_LEN);
    this.room(1);
    return this.at++;
  }

  /** Closes the field `begin` opened at `start`: writes its length, moving its content right if the length needs more than one byte. */
  end(start: number): this {
    const length = this.at - start - 1;
    if (length < 128) {
      this.buf[start] = length;
      return this;
    }
    let extra = 1;
    while (length >= 2 ** (7 * (extra + 1))) extra++;
    this.room(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, this.at);
    this.at += extra;
    let value = length;
    let at = start;
    while (value > 127) {
      this.buf[at++] = (value & 127) | 128;
      value >>>= 7;
    }
    this.buf[at] = value;
    return this;
  }
}
