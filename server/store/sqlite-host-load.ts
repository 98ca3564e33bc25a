// Reading every host of a SQLite database at start-up, as sqlite-device-load.ts reads the devices:
// SQLite encodes the hosts (with their lease expiries) as one JSON array of arrays in host order,
// so the storage worker sends one string where it built 10,000 row objects, mapped them to
// records and had them structured-cloned to the main thread (about 70 ms of the worker's CPU for
// the benchmark's fleet, on the path to the first answer; the string costs it about 12 ms), and
// the main thread decodes the string into records where it used to deserialize the clone.
//
// A host's labels and budgets, stored as JSON texts, are embedded as JSON values (SQLite's
// `json()`), not as strings: one JSON.parse of the whole text makes every host's objects,
// where a string per host had to be unescaped and then parsed again (about a third of the
// hosts' decoding on the main thread, on the path to the first answer).
//
// The records are made as hostFromRow makes them (rows.ts hostFromParsedRow), and the lease
// expiries the ones `lease_expire_ms IS NOT NULL` gives: test/store-contract.test.ts compares a
// load with both.
// This module imports better-sqlite3's types only, so the main thread loads no SQLite to decode.

import type { HostRecord } from '../core/store.ts';
import type { BudgetJson } from './history-encoding.ts';
import { hostFromParsedRow } from './rows.ts';
import type { Labels } from '../core/resources.ts';

/** Every host, in id order, as one JSON text of arrays in the column order of HostTuple. */
export const HOSTS_ENCODED = `SELECT json_group_array(json_array(host_id, json(labels), revision, create_revision, create_time_ms,
    update_time_ms, last_sync_time_ms, reachable, draining, json(budgets), lease_expire_ms) ORDER BY host_id)
  FROM hosts`;

/** One host as HOSTS_ENCODED encodes it. */
type HostTuple = [
  hostId: string,
  labels: Labels,
  revision: number,
  createRevision: number,
  createTime: number,
  updateTime: number,
  lastSyncTime: number,
  reachable: number,
  draining: number,
  budgets: BudgetJson[] | null,
  leaseExpire: number | null,
];

/** The hosts as the worker sends them: HOSTS_ENCODED's text. */
export type EncodedHosts = string;

/** The hosts' records and their lease expiries (host id → expiry, for hosts that have one). */
export function decodeHosts(encoded: EncodedHosts): { hosts: HostRecord[]; leaseExpiries: Map<string, number> } {
  const tuples = JSON.parse(encoded) as HostTuple[];
  const hosts = new Array<HostRecord>(tuples.length);
  const leaseExpiries = new Map<string, number>();
  for (let i = 0; i < tuples.length; i++) {
    const [hostId, labels, revision, createRevision, createTime, updateTime, lastSyncTime, reachable, draining, budgets, leaseExpire] = tuples[i];
    hosts[i] = hostFromParsedRow({
      host_id: hostId,
      labels,
      revision,
      create_revision: createRevision,
      create_time_ms: createTime,
      update_time_ms: updateTime,
      last_sync_time_ms: lastSyncTime,
      reachable,
      draining,
      budgets,
    });
    if (leaseExpire !== null) leaseExpiries.set(hostId, leaseExpire);
  }
  return { hosts, leaseExpiries };
}
