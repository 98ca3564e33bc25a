// Reading every device of a SQLite database at start-up, the largest part of a restart: a
// fleet's 160,000 devices. better-sqlite3 builds one JS object per row (ten named columns, three
// fresh strings), which cost about 0.6 s of CPU and as much again in garbage collection for a
// 10,000-host fleet, all thrown away once the records are built. Here SQLite groups the rows by
// host and encodes each host's devices as one JSON array of arrays (in device order), so the
// binding makes 10,000 rows of two strings, V8's JSON parser (far cheaper per value than the
// binding) reads the rest, and every device of a host shares the host's id string. Equal label
// texts and capacities give one shared object, as a fleet repeats them on every host.
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

/** Hosts in id order, each with its devices in id order (the devices table's key order). */
export const DEVICES_BY_HOST = `SELECT host_id, json_group_array(json_array(device_id, descriptor_id, capacity_total,
    capacity_available, labels, revision, create_revision, create_time_ms, update_time_ms) ORDER BY device_id)
  FROM devices GROUP BY host_id ORDER BY host_id`;

/** Every device, ordered by host then device id, from `statement` prepared on DEVICES_BY_HOST. */
export function readDevicesByHost(statement: Database.Statement): DeviceRecord[] {
  const labelsByText = new Map<string, Labels>();
  const capacities = new Map<string, Capacity>();
  const devices: DeviceRecord[] = [];
  for (const [hostId, encoded] of statement.raw(true).all() as [string, string][]) {
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
  return devices;
}
