// How history entries are stored, whatever the store: each snapshot as compact JSON and each
// entry chained (history-chain.ts) over exactly those stored columns. Every RegistryStore
// uses this encoding, so the same history has the same chain head in any of them, and a
// verifier re-reading stored columns recomputes exactly what was hashed.

import type { Labels } from '../core/resources.ts';
import type { Budget } from '../core/budgets.ts';
import type { ChainWalk, ChainWalkQuery, ClaimRecord, CompactedStart, CompactionLog, CompactionRecord, CompactionRequest, HistoryRecord, ResourceSnapshot } from '../core/store.ts';
import { canonicalEntry, chainHash, compactionHash, GENESIS_HASH, hashEncoding, type ChainedColumns } from './history-chain.ts';

/** One history entry as stored and chained: its columns, the hash before it and its own. */
export interface ChainedEntry {
  readonly columns: ChainedColumns;
  readonly prev: string;
  readonly hash: string;
}

/**
 * Chains a batch's history after `head`: each entry's stored columns and hashes, the head
 * after each revision (in revision order), and the head after the batch. `encodings` holds each
 * entry's canonical encoding (history-chain.ts, what was hashed), for a store that packs its
 * entries from that text instead of encoding them again (sqlite-history.ts).
 */
export function chainEntries(
  head: string,
  history: readonly HistoryRecord[],
): { entries: ChainedEntry[]; encodings: string[]; heads: { revision: number; hash: string }[]; head: string } {
  const heads: { revision: number; hash: string }[] = [];
  const encodings: string[] = [];
  const entries = history.map((entry): ChainedEntry => {
    const columns = chainedColumnsOf(entry);
    const prev = head;
    const encoding = canonicalEntry(columns);
    encodings.push(encoding);
    head = hashEncoding(prev, encoding);
    if (heads.at(-1)?.revision === entry.revision) heads[heads.length - 1] = { revision: entry.revision, hash: head };
    else heads.push({ revision: entry.revision, hash: head });
    return { columns, prev, hash: head };
  });
  return { entries, encodings, heads, head };
}

/** An entry's stored, chained columns: its snapshots as encodeSnapshot writes them, onBehalfOf '' when absent. */
export function chainedColumnsOf(entry: HistoryRecord): ChainedColumns {
  return {
    revision: entry.revision,
    seq: entry.seq,
    time: entry.time,
    hostId: entry.hostId,
    deviceId: entry.deviceId,
    change: entry.change,
    actor: entry.actor,
    reason: entry.reason,
    before: entry.before ? encodeSnapshot(entry.before) : null,
    after: entry.after ? encodeSnapshot(entry.after) : null,
    onBehalfOf: entry.onBehalfOf ?? '',
  };
}

/**
 * Walks stored entries (already cut to the query's page, in chain order). For each: its prev
 * hash must be the hash before it (else entries between were removed, or it was moved), and
 * its hash must match its content (else it was altered).
 */
export function walkChain(
  rows: Iterable<{ readonly columns: ChainedColumns; readonly prev: string | undefined; readonly hash: string | undefined }>,
  query: ChainWalkQuery,
): ChainWalk {
  let prev = query.prevHash;
  let checked = 0;
  let foundExpectedHead = query.expectedHead !== undefined && query.expectedHead === query.prevHash && !query.after;
  let foundLiveHead = false;
  let last: ChainWalk['last'];
  for (const row of rows) {
    checked++;
    const { revision, seq, hostId, deviceId } = row.columns;
    const at = { revision, seq };
    const broken = (problem: 'REMOVED_OR_REORDERED' | 'ALTERED', description: string): ChainWalk => ({
      checked,
      last,
      foundExpectedHead,
      foundLiveHead,
      broken: { ...at, problem, description },
    });
    if (row.prev !== prev) {
      return broken(
        'REMOVED_OR_REORDERED',
        `entry ${revision}/${seq} does not follow the entry before it: entries were removed before it, or it was moved`,
      );
    }
    const computed = chainHash(prev, row.columns);
    if (row.hash !== computed) {
      const resource = deviceId ? `hosts/${hostId}/devices/${deviceId}` : `hosts/${hostId}`;
      return broken('ALTERED', `entry ${revision}/${seq} (${resource}) no longer matches its hash: it was altered`);
    }
    prev = computed;
    last = { ...at, hash: computed };
    if (computed === query.expectedHead) foundExpectedHead = true;
    if (computed === query.liveHead) foundLiveHead = true;
  }
  return { checked, last, foundExpectedHead, foundLiveHead, broken: undefined };
}

/** The hash the next compaction record chains to: the last recorded one's, or genesis. */
export function lastRecordHash(previous: readonly CompactionRecord[]): string {
  return [...previous].reverse().find((record) => record.recordHash !== '')?.recordHash ?? GENESIS_HASH;
}

/** The record of a compaction cutting at `hash`, chained after the last recorded one. */
export function compactionRecord(
  request: CompactionRequest,
  hash: string,
  removed: number,
  previous: readonly CompactionRecord[],
  /** The store's head as the cut is made (not the caller's, which may be behind other replicas). */
  head: { readonly revision: number; readonly hash: string },
): CompactionRecord {
  const prev = lastRecordHash(previous);
  const columns = { revision: request.revision, hash, time: request.time, actor: request.actor, removed, headRevision: head.revision, headHash: head.hash };
  return {
    checkpoint: { revision: request.revision, hash },
    time: request.time,
    actor: request.actor,
    removed,
    headRevision: head.revision,
    headHash: head.hash,
    recordHash: compactionHash(prev, columns),
  };
}

/**
 * Checks the compaction records' chain: records made before records existed (no hash) may only
 * come first; each recorded one must hash, over the one before, to its stored hash.
 */
/**
 * A compacted start as a store records it (startCompacted): checked to be one (the records
 * chain, the cut is the last checkpoint), with each record's link to the one before.
 */
export function compactedStartRows(start: CompactedStart): { record: CompactionRecord; prevRecordHash: string }[] {
  const last = start.records.at(-1);
  if (!last) throw new Error('a compacted start needs at least one compaction record');
  if (start.cut.revision !== last.checkpoint.revision) {
    throw new Error(`the revision at the cut (${start.cut.revision}) is not the last checkpoint's (${last.checkpoint.revision})`);
  }
  const log = walkCompactions(start.records);
  if (log.broken) throw new Error(`the compaction records do not chain: ${log.broken}`);
  return start.records.map((record, i) => ({ record, prevRecordHash: lastRecordHash(start.records.slice(0, i)) }));
}

/**
 * A copied compaction record's row values, in the order of the history_checkpoints columns
 * (checkpoint_revision, hash, time_ms, entries_removed, actor, head_revision, head_hash,
 * prev_record_hash, record_hash): a record made before records existed keeps its nulls.
 */
export function copiedCheckpointRow(record: CompactionRecord, prevRecordHash: string): unknown[] {
  return [
    record.checkpoint.revision,
    record.checkpoint.hash,
    record.time,
    record.removed,
    record.actor || null,
    record.headRevision || null,
    record.headHash || null,
    record.recordHash ? prevRecordHash : null,
    record.recordHash || null,
  ];
}

export function walkCompactions(records: readonly CompactionRecord[]): CompactionLog {
  let prev = GENESIS_HASH;
  let recorded = false;
  for (const record of records) {
    const at = `the compaction record at revision ${record.checkpoint.revision}`;
    if (record.recordHash === '') {
      if (recorded) return { records, broken: `${at} has no hash after recorded ones: it was altered or inserted` };
      continue;
    }
    recorded = true;
    const computed = compactionHash(prev, {
      revision: record.checkpoint.revision,
      hash: record.checkpoint.hash,
      time: record.time,
      actor: record.actor,
      removed: record.removed,
      headRevision: record.headRevision,
      headHash: record.headHash,
    });
    if (computed !== record.recordHash) {
      return { records, broken: `${at} does not match its hash: it was altered, or a record before it was removed` };
    }
    prev = computed;
  }
  return { records, broken: undefined };
}

// History snapshots are compact JSON: the entry's row already holds the host and device ids,
// so a snapshot keeps only the resource's own state. History is most of what a registry
// writes, so its size is most of the write cost.
interface HostSnapshotJson {
  l: Labels;
  r: number;
  cr: number;
  ct: number;
  ut: number;
  st: number;
  /** Present (1) only when unreachable / draining, so a plain host stays small. */
  u?: 1;
  dr?: 1;
  /**
   * Shared budgets, present only when the host has some: entries written before budgets
   * existed are byte for byte what they were, so their hashes still verify (history-chain.ts).
   */
  b?: BudgetJson[];
}

/** A shared budget: [budget id, parent, total, available, [[device id, per unit], ...]]. */
export type BudgetJson = [string, string, number, number, [string, number][]];

/** Budgets as stored (in a host snapshot and in the hosts table): budget id order, consumers in device id order. */
export function encodeBudgets(budgets: readonly Budget[]): BudgetJson[] {
  return budgets.map((b) => [b.budgetId, b.parent, b.total, b.available, [...b.consumption]]);
}

export function decodeBudgets(json: readonly BudgetJson[]): Budget[] {
  return json.map(([budgetId, parent, total, available, consumption]) => ({
    budgetId,
    parent,
    total,
    available,
    consumption: new Map(consumption),
  }));
}

interface DeviceSnapshotJson {
  d: number;
  c?: [number, number];
  l: Labels;
  r: number;
  cr: number;
  ct: number;
  ut: number;
}

/** A claim (placement): the entry's row holds its host; claimId is kept for the claims table. */
interface ClaimSnapshotJson {
  id: string;
  /** [device id, count, remaining] in device id order. */
  d: [string, number, number][];
  s: ClaimRecord['state'];
  ttl: number;
  ct: number;
  et: number;
  end?: number;
  fp: string;
  /** The owner (migration 0008); absent when '' (every claim recorded before owners existed). */
  o?: string;
  cr: number;
  r: number;
}

export function encodeClaim(claim: ClaimRecord): ClaimSnapshotJson {
  return {
    id: claim.claimId,
    d: claim.devices.map((d) => [d.deviceId, d.count, d.remaining]),
    s: claim.state,
    ttl: claim.ttlMs,
    ct: claim.createTimeMs,
    et: claim.expireTimeMs,
    ...(claim.endTimeMs !== undefined && { end: claim.endTimeMs }),
    fp: claim.fingerprint,
    ...(claim.owner !== '' && { o: claim.owner }),
    cr: claim.createRevision,
    r: claim.revision,
  };
}

export function decodeClaim(json: ClaimSnapshotJson, hostId: string): ClaimRecord {
  return {
    hostId,
    claimId: json.id,
    devices: json.d.map(([deviceId, count, remaining]) => ({ deviceId, count, remaining })),
    state: json.s,
    ttlMs: json.ttl,
    createTimeMs: json.ct,
    expireTimeMs: json.et,
    ...(json.end !== undefined && { endTimeMs: json.end }),
    fingerprint: json.fp,
    owner: json.o ?? '',
    createRevision: json.cr,
    revision: json.r,
  };
}

export function encodeSnapshot(snapshot: ResourceSnapshot): string {
  if (snapshot.kind === 'claim') return JSON.stringify({ c: encodeClaim(snapshot.claim) });
  if (snapshot.kind === 'host') {
    const { host } = snapshot;
    const json: HostSnapshotJson = {
      l: host.labels,
      r: host.revision,
      cr: host.createRevision,
      ct: host.createTime,
      ut: host.updateTime,
      st: host.lastSyncTime,
      ...(!host.reachable && { u: 1 as const }),
      ...(host.draining && { dr: 1 as const }),
      ...(host.budgets?.length && { b: encodeBudgets(host.budgets) }),
    };
    return JSON.stringify({ h: json });
  }
  const { device } = snapshot;
  const json: DeviceSnapshotJson = {
    d: device.descriptorId,
    ...(device.capacity && { c: [device.capacity.total, device.capacity.available] as [number, number] }),
    l: device.labels,
    r: device.revision,
    cr: device.createRevision,
    ct: device.createTime,
    ut: device.updateTime,
  };
  return JSON.stringify({ v: json });
}

export function decodeSnapshot(text: string | null, hostId: string, deviceId: string): ResourceSnapshot | undefined {
  if (text === null) return undefined;
  const parsed = JSON.parse(text) as { h?: HostSnapshotJson; v?: DeviceSnapshotJson; c?: ClaimSnapshotJson };
  if (parsed.c) return { kind: 'claim', claim: decodeClaim(parsed.c, hostId) };
  if (parsed.h) {
    const h = parsed.h;
    return {
      kind: 'host',
      host: {
        hostId,
        labels: h.l,
        revision: h.r,
        createRevision: h.cr,
        createTime: h.ct,
        updateTime: h.ut,
        lastSyncTime: h.st,
        reachable: h.u !== 1,
        draining: h.dr === 1,
        ...(h.b && { budgets: decodeBudgets(h.b) }),
      },
    };
  }
  if (parsed.v) {
    const v = parsed.v;
    return {
      kind: 'device',
      device: {
        hostId,
        deviceId,
        descriptorId: v.d,
        capacity: v.c && { total: v.c[0], available: v.c[1] },
        labels: v.l,
        revision: v.r,
        createRevision: v.cr,
        createTime: v.ct,
        updateTime: v.ut,
      },
    };
  }
  throw new Error('history snapshot holds neither a host, a device nor a claim');
}

