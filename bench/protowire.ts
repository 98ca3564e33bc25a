// A few fields read straight from protobuf wire bytes, without decoding whole messages: the
// watch and lease load generators receive thousands of messages a second and need only their
// revision, time, event count or state. On two cores, decoding each message fully would make
// the load generator compete with the server for CPU, and it is the server that is measured.
// Also used to split an encoded SyncHostRequest into its fields, so that a sync that changes
// one device can be assembled from pre-encoded pieces.

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** One top-level field: its number, wire type, and where its bytes are in the buffer. */
export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** For varints, the value (exact up to 2^53). */
  readonly value: number;
  /** The field's payload (for LEN: the bytes after the length). */
  readonly start: number;
  readonly end: number;
  /** Where the field begins, its tag included. */
  readonly tagStart: number;
}

function readVarint(buf: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  let i = offset;
  for (;;) {
    if (i >= buf.length) throw new RangeError('truncated varint');
    const byte = buf[i++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i];
    scale *= 128;
    if (scale > 2 ** 63) throw new RangeError('varint too long');
  }
}

/** Calls `visit` for each top-level field of `buf[start, end)`, in wire order. */
export function forEachField(buf: Uint8Array, visit: (field: WireField) => void, start = 0, end = buf.length): void {
  let i = start;
  while (i < end) {
    const tagStart = i;
    const [tag, afterTag] = readVarint(buf, i);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    i = afterTag;
    switch (wireType) {
      case WIRE_VARINT: {
        const [value, next] = readVarint(buf, i);
        visit({ field, wireType, value, start: i, end: next, tagStart });
        i = next;
        break;
      }
      case WIRE_I64:
        visit({ field, wireType, value: 0, start: i, end: i + 8, tagStart });
        i += 8;
        break;
      case WIRE_LEN: {
        const [length, next] = readVarint(buf, i);
        visit({ field, wireType, value: length, start: next, end: next + length, tagStart });
        i = next + length;
        break;
      }
      case WIRE_I32:
        visit({ field, wireType, value: 0, start: i, end: i + 4, tagStart });
        i += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }
  if (i !== end) throw new RangeError('message overruns its bounds');
}

/** A google.protobuf.Timestamp's bytes as milliseconds since the epoch (fractional). */
export function timestampMs(buf: Uint8Array, start: number, end: number): number {
  let seconds = 0;
  let nanos = 0;
  forEachField(
    buf,
    (f) => {
      if (f.field === 1 && f.wireType === WIRE_VARINT) seconds = f.value;
      else if (f.field === 2 && f.wireType === WIRE_VARINT) nanos = f.value;
    },
    start,
    end,
  );
  return seconds * 1000 + nanos / 1e6;
}

/** WatchResponse: the fields a latency measurement needs. */
export interface WatchHeader {
  revision: number;
  /** Commit time of the revision, ms since the epoch; NaN when absent (progress, created). */
  timeMs: number;
  events: number;
  progress: boolean;
  created: boolean;
  /** The resource of the first event ('' when none): enough to check a host filter. */
  firstResource: string;
}

export function readWatchHeader(buf: Uint8Array): WatchHeader {
  const header: WatchHeader = { revision: 0, timeMs: Number.NaN, events: 0, progress: false, created: false, firstResource: '' };
  forEachField(buf, (f) => {
    switch (f.field) {
      case 1:
        header.revision = f.value;
        break;
      case 2:
        header.timeMs = timestampMs(buf, f.start, f.end);
        break;
      case 3:
        if (header.events++ === 0) {
          forEachField(
            buf,
            (e) => {
              if (e.field === 2 && e.wireType === WIRE_LEN) header.firstResource = Buffer.from(buf.buffer, buf.byteOffset + e.start, e.end - e.start).toString('utf8');
            },
            f.start,
            f.end,
          );
        }
        break;
      case 5:
        header.progress = f.value !== 0;
        break;
      case 6:
        header.created = f.value !== 0;
        break;
      default:
        break;
    }
  });
  return header;
}

/** SyncHostResponse: revision (field 1) and changed (field 3). */
export function readSyncResponse(buf: Uint8Array): { revision: number; changed: boolean } {
  let revision = 0;
  let changed = false;
  forEachField(buf, (f) => {
    if (f.field === 1 && f.wireType === WIRE_VARINT) revision = f.value;
    else if (f.field === 3 && f.wireType === WIRE_VARINT) changed = f.value !== 0;
  });
  return { revision, changed };
}

/** KeepAliveResponse: name (1), lease_expire_time (2), ttl_ms (3), state (4), error (5). */
export interface KeepAliveAnswer {
  name: string;
  expireMs: number;
  ttlMs: number;
  /** HostState number: 1 READY, 2 UNREACHABLE, 3 DRAINING. */
  state: number;
  error: boolean;
}

export function readKeepAliveResponse(buf: Uint8Array): KeepAliveAnswer {
  const answer: KeepAliveAnswer = { name: '', expireMs: Number.NaN, ttlMs: Number.NaN, state: 0, error: false };
  forEachField(buf, (f) => {
    if (f.field === 1 && f.wireType === WIRE_LEN) answer.name = Buffer.from(buf.buffer, buf.byteOffset + f.start, f.end - f.start).toString('utf8');
    else if (f.field === 2 && f.wireType === WIRE_LEN) answer.expireMs = timestampMs(buf, f.start, f.end);
    else if (f.field === 3 && f.wireType === WIRE_VARINT) answer.ttlMs = f.value;
    else if (f.field === 4 && f.wireType === WIRE_VARINT) answer.state = f.value;
    else if (f.field === 5) answer.error = true;
  });
  return answer;
}

/** The encoded bytes of each top-level field with this number, tag included, in order. */
export function fieldSegments(buf: Buffer, field: number): Buffer[] {
  const segments: Buffer[] = [];
  forEachField(buf, (f) => {
    if (f.field === field) segments.push(buf.subarray(f.tagStart, f.end));
  });
  return segments;
}

/** The encoded bytes of every top-level field except those with this number, in order. */
export function withoutField(buf: Buffer, field: number): Buffer {
  const kept: Buffer[] = [];
  forEachField(buf, (f) => {
    if (f.field !== field) kept.push(buf.subarray(f.tagStart, f.end));
  });
  return Buffer.concat(kept);
}
