// Reading every device of a SQLite database at start-up, the largest part of a restart: a
// fleet's 160,000 devices. better-sqlite3 builds one JS object per row (ten named columns, three
// fresh strings), which cost about 0.6 s of CPU and as much again in garbage collection for a
// 10,000-host fleet, all thrown away once the records are built. Here SQLite groups the rows by
// host and encodes each host's devices as one JSON array of arrays (in device order), so the
// binding makes 10,000 rows of two strings, V8's JSON parser (far cheaper per value than the
// binding) reads the rest, and every device of a host shares the host's id string. Equal label
// texts and capacities give one shared object, as a fleet repeats them on every host.
//
// The two halves run in different threads: the storage worker runs the query (`readDevicePages`,
// the SQL's part, which SQLite spends building the JSON texts) and sends the rows, two strings
// per host, a page of hosts at a time, to the main thread, which decodes them into records
// (`DeviceDecoder`) where the registry lives: records cannot cross threads cheaply (a structured clone of 160,000 of them
// cost as much as reading them), strings can. This module imports better-sqlite3's types only,
// so the main thread loads no SQLite to decode.
//
// The records are exactly what a row-by-row read gives (rows.ts deviceFromRow); the test
// store-contract.test.ts compares both on the same file.

import type Database from 'better-sqlite3';
import type { Capacity } from '../core/model.ts';
import type { Labels } from '../core/resources.ts';
import type { DeviceRecord } from '../core/store.ts';

/** One device as the query encodes it, in this column order. */
type DeviceTuple = [
  deviceId: string,
  descriptorId: number,
  capacityTotal: number | null,
  capacityAvailable: number | null,
  labels: string,
  revision: number,
  createRevision: number,
  createTime: number,
  updateTime: number,
];

/**
 * A page of hosts after a host id (exclusive; '' for the first page), in id order, each with its
 * devices in id order (the devices table's key order) as one JSON text.
 */
export const DEVICES_BY_HOST_PAGE = `SELECT host_id, json_group_array(json_array(device_id, descriptor_id, capacity_total,
    capacity_available, labels, revision, create_revision, create_time_ms, update_time_ms) ORDER BY device_id)
  FROM devices WHERE host_id > ? GROUP BY host_id ORDER BY host_id LIMIT ?`;

/**
 * Hosts per page: about 400 KB of text for the benchmark's fleet. The storage worker posts each
 * page as it reads it, so what it read is garbage while still young (a single read of the
 * whole table kept 40 MB in the worker's old generation, where an idle worker never collects it).
 */
export const DEVICE_PAGE_HOSTS = 256;

/** Each host's id and its devices as one JSON text, hosts in id order: a page DEVICES_BY_HOST_PAGE reads. */
export type DeviceRows = readonly (readonly [hostId: string, devices: string])[];

/** Every page of `statement`, prepared on DEVICES_BY_HOST_PAGE, handed to `page` in host order (the storage worker's half). */
export function readDevicePages(statement: Database.Statement, page: (rows: DeviceRows) => void): void {
  const raw = statement.raw(true);
  let after = '';
  for (;;) {
    const rows = raw.all(after, DEVICE_PAGE_HOSTS) as [string, string][];
    if (rows.length > 0) page(rows);
    if (rows.length < DEVICE_PAGE_HOSTS) return;
    after = rows[rows.length - 1][0];
  }
}

/**
 * Decodes pages of rows into records, in the order given (the registry's half). Equal label
 * texts and capacities across all its pages give one shared object.
 */
export class DeviceDecoder {
  readonly devices: DeviceRecord[] = [];
  private readonly labelsByText = new Map<string, Labels>();
  private readonly capacities = new Map<string, Capacity>();

  /** Decodes `rows` into `devices` (by default, this decoder's own list). */
  decode(rows: DeviceRows, devices: DeviceRecord[] = this.devices): void {
    const { labelsByText, capacities } = this;
    for (const [hostId, encoded] of rows) {
      for (const tuple of JSON.parse(encoded) as DeviceTuple[]) {
        const [deviceId, descriptorId, total, available, labelsText, revision, createRevision, createTime, updateTime] = tuple;
        let labels = labelsByText.get(labelsText);
        if (!labels) {
          labels = JSON.parse(labelsText) as Labels;
          labelsByText.set(labelsText, labels);
        }
        let capacity: Capacity | undefined;
        if (total !== null) {
          const key = `${total}/${available ?? 0}`;
          capacity = capacities.get(key);
          if (!capacity) {
            capacity = { total, available: available ?? 0 };
            capacities.set(key, capacity);
          }
        }
        devices.push({ hostId, deviceId, descriptorId, capacity, labels, revision, createRevision, createTime, updateTime });
      }
    }
  }
}
