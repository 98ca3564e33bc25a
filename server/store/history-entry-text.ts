// A history entry's canonical encoding (history-chain.ts, what the chain hashes), written straight
// from its record, and a device's row values as JSON text: the hot path of a registration.
//
// canonicalEntry over the columns chainEntries builds is the reference: a JSON array of the
// entry's columns, the snapshots inside it as their stored JSON text (encodeSnapshot), so each
// snapshot is encoded once and then escaped once more. A registration writes 160,000 device
// entries whose label sets are a few dozen shared objects; here a device snapshot is written
// directly in its escaped form, with each label set's JSON (and its escaped form) made once per
// object and remembered (weakly: the memo lives as long as the label set), and the pieces that
// consecutive entries repeat (a revision's time, host, actor; a snapshot's revisions and times)
// made once while they repeat (`LastPiece`). The
// text is byte for byte the reference's (test/history-entry-text.test.ts compares the two on
// generated records), so the hashes, the chain and the stored history are the ones they were.
// Host and claim snapshots (one per host or claim) take the reference path.
//
// Label sets are immutable records (core/resources.ts Labels): a memoized text is never stale.

import type { Labels } from '../core/resources.ts';
import type { DeviceRecord, HistoryRecord, ResourceSnapshot } from '../core/store.ts';
import { CHAIN_VERSION_2 } from './history-chain.ts';
import { encodeSnapshot } from './history-encoding.ts';
import { deviceToRow } from './rows.ts';

/** A label set's JSON text escaped as the inside of a JSON string (JSON.stringify twice, quotes cut). */
const escapedLabelsMemo = new WeakMap<Labels, string>();

function escapedLabels(labels: Labels): string {
  let text = escapedLabelsMemo.get(labels);
  if (text === undefined) {
    text = JSON.stringify(JSON.stringify(labels)).slice(1, -1);
    escapedLabelsMemo.set(labels, text);
  }
  return text;
}

/**
 * A string as a JSON string literal. Host ids, device ids, actors and reasons repeat from entry to
 * entry (a host's entries, the same device ids on every host): the last few are remembered.
 */
const quotedMemo = new Map<string, string>();
const QUOTED_MEMO_LIMIT = 4096;

function quoted(text: string): string {
  let literal = quotedMemo.get(text);
  if (literal === undefined) {
    literal = JSON.stringify(text);
    if (quotedMemo.size >= QUOTED_MEMO_LIMIT) quotedMemo.clear();
    if (text.length <= 256) quotedMemo.set(text, literal);
  }
  return literal;
}

/** Whether every number a device's texts hold prints as JSON prints it (finite: JSON writes others as null). */
function finiteDevice(d: DeviceRecord): boolean {
  return (
    Number.isFinite(d.descriptorId) &&
    Number.isFinite(d.revision) &&
    Number.isFinite(d.createRevision) &&
    Number.isFinite(d.createTime) &&
    Number.isFinite(d.updateTime) &&
    (!d.capacity || (Number.isFinite(d.capacity.total) && Number.isFinite(d.capacity.available)))
  );
}

/**
 * The pieces that repeat from entry to entry, made once and reused while they repeat: a
 * registration's 17 entries of a host share the revision's time, host, change, actor and
 * reason, and its devices' snapshots and rows share their revision numbers and times, their
 * descriptor's prefix and (interned) capacity. Each memo keeps the last piece with the values it
 * was made from and makes it again when any differs, so a text is always the one its values
 * give; a template of 20-odd substitutions made as many intermediate strings per text, most of
 * a registration's garbage on the thread that encodes (docs/benchmarks.md, issue 7, `sync3`).
 */
class LastPiece<A, B = undefined, C = undefined, D = undefined> {
  private made = false;
  private a: A | undefined;
  private b: B | undefined;
  private c: C | undefined;
  private d: D | undefined;
  private piece = '';

  constructor(private readonly make: (a: A, b: B, c: C, d: D) => string) {}

  /** The piece of these values (up to four; no array made per call). */
  get(a: A, b: B, c: C, d: D): string {
    if (!this.made || !Object.is(a, this.a) || !Object.is(b, this.b) || !Object.is(c, this.c) || !Object.is(d, this.d)) {
      this.piece = this.make(a, b, c, d);
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      this.made = true;
    }
    return this.piece;
  }
}

/** `,${time},"host",` (the columns between seq and device id). */
const timeAndHost = new LastPiece((time: number | null, hostId: string, _c: undefined, _d: undefined) => `,${time},${quoted(hostId)},`);
/** `,"change","actor","reason",` (the columns between device id and the snapshots). */
const changeActorReason = new LastPiece((change: string, actor: string, reason: string, _d: undefined) => `,${quoted(change)},${quoted(actor)},${quoted(reason)},`);
/** A device snapshot's text from its descriptor id through its capacity, up to the labels. */
const snapshotHead = new LastPiece(
  (descriptorId: number, total: number | undefined, available: number | undefined, _d: undefined) =>
    `"{\\"v\\":{\\"d\\":${descriptorId},${total === undefined ? '' : `\\"c\\":[${total},${available}],`}\\"l\\":`,
);
/** A device snapshot's text after its labels: revisions and times. */
const snapshotTail = new LastPiece(
  (revision: number, createRevision: number, createTime: number, updateTime: number) =>
    `,\\"r\\":${revision},\\"cr\\":${createRevision},\\"ct\\":${createTime},\\"ut\\":${updateTime}}}"`,
);
/** A device row's text between its device id and its labels: descriptor id and capacity. */
const rowMiddle = new LastPiece(
  (descriptorId: number, total: number | undefined, available: number | undefined, _d: undefined) =>
    `,${descriptorId},${total === undefined ? 'null,null' : `${total},${available}`},"`,
);
/** A device row's text after its labels. */
const rowTail = new LastPiece(
  (revision: number, createRevision: number, createTime: number, updateTime: number) =>
    `",${revision},${createRevision},${createTime},${updateTime}]`,
);

/** A snapshot's stored text (encodeSnapshot) as a JSON string literal, quotes included. */
function quotedSnapshot(snapshot: ResourceSnapshot): string {
  if (snapshot.kind !== 'device' || !finiteDevice(snapshot.device)) return JSON.stringify(encodeSnapshot(snapshot));
  const d = snapshot.device;
  // encodeSnapshot's key order: d, c (only with a capacity), l, r, cr, ct, ut.
  return (
    snapshotHead.get(d.descriptorId, d.capacity?.total, d.capacity?.available, undefined) +
    escapedLabels(d.labels) +
    snapshotTail.get(d.revision, d.createRevision, d.createTime, d.updateTime)
  );
}

/** A finite number as JSON prints it; anything else as null (what JSON.stringify writes for it). */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * The entry's canonical encoding: exactly canonicalEntry(columns) where the columns are the
 * record's, its snapshots as encodeSnapshot writes them and onBehalfOf '' when absent.
 */
export function canonicalEntryText(entry: HistoryRecord): string {
  const before = entry.before ? quotedSnapshot(entry.before) : 'null';
  const after = entry.after ? quotedSnapshot(entry.after) : 'null';
  const columns =
    `${finiteOrNull(entry.revision)},${finiteOrNull(entry.seq)}` +
    timeAndHost.get(finiteOrNull(entry.time), entry.hostId, undefined, undefined) +
    quoted(entry.deviceId) +
    changeActorReason.get(entry.change, entry.actor, entry.reason, undefined) +
    `${before},${after}`;
  const onBehalfOf = entry.onBehalfOf ?? '';
  return onBehalfOf === '' ? `[${columns}]` : `[${CHAIN_VERSION_2},${columns},${JSON.stringify(onBehalfOf)}]`;
}

/**
 * A device's row as a JSON array, in the devices table's column order: host_id, device_id,
 * descriptor_id, capacity_total, capacity_available, labels (its JSON text, as a string),
 * revision, create_revision, create_time_ms, update_time_ms. rows.ts deviceToRow's values.
 */
export function deviceRowText(d: DeviceRecord): string {
  if (!finiteDevice(d)) return JSON.stringify(Object.values(deviceToRow(d)));
  return (
    `[${quoted(d.hostId)},${quoted(d.deviceId)}` +
    rowMiddle.get(d.descriptorId, d.capacity?.total, d.capacity?.available, undefined) +
    escapedLabels(d.labels) +
    rowTail.get(d.revision, d.createRevision, d.createTime, d.updateTime)
  );
}
