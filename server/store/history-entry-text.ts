// A history entry's canonical encoding (history-chain.ts, what the chain hashes), written straight
// from its record, and a device's row values as JSON text: the hot path of a registration.
//
// canonicalEntry over the columns chainEntries builds is the reference: a JSON array of the
// entry's columns, the snapshots inside it as their stored JSON text (encodeSnapshot), so each
// snapshot is encoded once and then escaped once more. A registration writes 160,000 device
// entries whose label sets are a few dozen shared objects; here a device snapshot is written
// directly in its escaped form from a template, with each label set's JSON (and its escaped form)
// made once per object and remembered (weakly: the memo lives as long as the label set). The
// text is byte for byte the reference's (test/history-entry-text.test.ts compares the two on
// generated records), so the hashes, the chain and the stored history are the ones they were.
// Host and claim snapshots (one per host or claim) take the reference path.
//
// Label sets are immutable records (core/resources.ts Labels): a memoized text is never stale.

import type { Labels } from '../core/resources.ts';
import type { DeviceRecord, HistoryRecord, ResourceSnapshot } from '../core/store.ts';
import { CHAIN_VERSION_2 } from './history-chain.ts';
import { encodeSnapshot } from './history-encoding.ts';

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

/** A snapshot's stored text (encodeSnapshot) as a JSON string literal, quotes included. */
function quotedSnapshot(snapshot: ResourceSnapshot): string {
  if (snapshot.kind !== 'device' || !finiteDevice(snapshot.device)) return JSON.stringify(encodeSnapshot(snapshot));
  const d = snapshot.device;
  // encodeSnapshot's key order: d, c (only with a capacity), l, r, cr, ct, ut.
  const capacity = d.capacity ? `\\"c\\":[${d.capacity.total},${d.capacity.available}],` : '';
  return `"{\\"v\\":{\\"d\\":${d.descriptorId},${capacity}\\"l\\":${escapedLabels(d.labels)},\\"r\\":${d.revision},\\"cr\\":${d.createRevision},\\"ct\\":${d.createTime},\\"ut\\":${d.updateTime}}}"`;
}

/**
 * The entry's canonical encoding: exactly canonicalEntry(columns) where the columns are the
 * record's, its snapshots as encodeSnapshot writes them and onBehalfOf '' when absent.
 */
export function canonicalEntryText(entry: HistoryRecord): string {
  const before = entry.before ? quotedSnapshot(entry.before) : 'null';
  const after = entry.after ? quotedSnapshot(entry.after) : 'null';
  const revision = Number.isFinite(entry.revision) ? entry.revision : null;
  const seq = Number.isFinite(entry.seq) ? entry.seq : null;
  const time = Number.isFinite(entry.time) ? entry.time : null;
  const columns = `${revision},${seq},${time},${quoted(entry.hostId)},${quoted(entry.deviceId)},${quoted(entry.change)},${quoted(entry.actor)},${quoted(entry.reason)},${before},${after}`;
  const onBehalfOf = entry.onBehalfOf ?? '';
  return onBehalfOf === '' ? `[${columns}]` : `[${CHAIN_VERSION_2},${columns},${JSON.stringify(onBehalfOf)}]`;
}

/**
 * A device's row as a JSON array, in the devices table's column order: host_id, device_id,
 * descriptor_id, capacity_total, capacity_available, labels (its JSON text, as a string),
 * revision, create_revision, create_time_ms, update_time_ms. rows.ts deviceToRow's values.
 */
export function deviceRowText(d: DeviceRecord): string {
  if (!finiteDevice(d)) {
    return JSON.stringify([
      d.hostId,
      d.deviceId,
      d.descriptorId,
      d.capacity?.total ?? null,
      d.capacity?.available ?? null,
      JSON.stringify(d.labels),
      d.revision,
      d.createRevision,
      d.createTime,
      d.updateTime,
    ]);
  }
  const capacity = d.capacity ? `${d.capacity.total},${d.capacity.available}` : 'null,null';
  return `[${quoted(d.hostId)},${quoted(d.deviceId)},${d.descriptorId},${capacity},"${escapedLabels(d.labels)}",${d.revision},${d.createRevision},${d.createTime},${d.updateTime}]`;
}
