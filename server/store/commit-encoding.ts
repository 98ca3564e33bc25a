// A commit batch as the SQLite store takes it: its bulk — the device rows and the history
// entries — as text, built where the batch is made. The server's store runs in a worker thread
// (worker-store.ts), and a batch of a registration under load holds ~500 device records and as
// many history records with their snapshots: its structured clone to the worker cost the main
// thread ~0.5 s of CPU per 10,000-host registration (plus the garbage), and the worker as much
// again to rebuild the objects, which it then only turned into rows and JSON. Encoded here, the
// message is a few strings and the small parts (hosts, descriptors, leases, claims); the worker
// hashes and packs the entries' text as it is and binds the device rows, parsed from one JSON
// array, by position (sqlite-store.ts). SqliteStore.commit(batch) goes through this encoding too, so there is
// one write path whichever thread calls it.

import type { CommitBatch } from '../core/store.ts';
import { canonicalEntryText, deviceRowText } from './history-entry-text.ts';

/** One revision of an encoded batch's history. */
export interface EncodedRevision {
  readonly revision: number;
  /** How many entries (the next `count` lines of `EncodedHistory.text`). */
  readonly count: number;
  /** The revisions row: time, actor and reason of the revision's (last) entry. */
  readonly time: number;
  readonly actor: string;
  readonly reason: string;
  /** The hosts the revision has entries about. */
  readonly hosts: readonly string[];
}

/** A batch's history: each entry's canonical encoding, in chain order. */
export interface EncodedHistory {
  /** The entries' canonical encodings (history-chain.ts), each followed by '\n' (JSON text never holds a raw newline). */
  readonly text: string;
  /** One character per entry: '2' for a version 2 entry (with onBehalfOf), '1' otherwise. */
  readonly versions: string;
  /** The entries' revisions in order, each with its count (entries of one revision are consecutive). */
  readonly revisions: readonly EncodedRevision[];
}

export interface EncodedBatch extends Omit<CommitBatch, 'deviceUpserts' | 'history'> {
  /** The upserted devices' rows, a JSON array of arrays (history-entry-text.ts deviceRowText); '[]' for none. */
  readonly devices: string;
  readonly history: EncodedHistory;
}

export function encodeCommitBatch(batch: CommitBatch): EncodedBatch {
  const { deviceUpserts, history, ...rest } = batch;
  const rows = new Array<string>(deviceUpserts.length);
  for (let i = 0; i < deviceUpserts.length; i++) rows[i] = deviceRowText(deviceUpserts[i]);
  const lines = new Array<string>(history.length + 1);
  let versions = '';
  const revisions: EncodedRevision[] = [];
  const seen = new Set<number>();
  let current: { revision: number; count: number; time: number; actor: string; reason: string; hosts: Set<string> } | undefined;
  const close = () => {
    if (current) revisions.push({ ...current, hosts: [...current.hosts] });
  };
  for (let i = 0; i < history.length; i++) {
    const entry = history[i];
    lines[i] = canonicalEntryText(entry);
    versions += entry.onBehalfOf ? '2' : '1';
    if (current?.revision !== entry.revision) {
      if (seen.has(entry.revision)) throw new Error(`the batch's entries of revision ${entry.revision} are not consecutive`);
      seen.add(entry.revision);
      close();
      current = { revision: entry.revision, count: 0, time: entry.time, actor: entry.actor, reason: entry.reason, hosts: new Set() };
    }
    current.count++;
    current.time = entry.time;
    current.actor = entry.actor;
    current.reason = entry.reason;
    current.hosts.add(entry.hostId);
  }
  close();
  lines[history.length] = '';
  return {
    ...rest,
    devices: `[${rows.join(',')}]`,
    history: { text: lines.join('\n'), versions, revisions },
  };
}
