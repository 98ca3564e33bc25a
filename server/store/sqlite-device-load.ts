// Reading every device of a SQLite database at start-up, the largest part of a restart: a
// fleet's 160,000 devices. better-sqlite3 builds one JS object per row (ten named columns, three
// fresh strings), which cost about 0.6 s of CPU and as much again in garbage collection for a
// 10,000-host fleet, all thrown away once the records are built. Here SQLite groups the rows by
// host and encodes each host's devices as one flat JSON array (nine values per device, in device
// order), so the binding makes 10,000 rows of two strings, V8's JSON parser (far cheaper per value
// than the binding) reads the rest, and every device of a host shares the host's id string. Equal
// label texts and capacities give one shared object, as a fleet repeats them on every host. The
// registry's load gets no record per device either: one record, reused (DeviceDecoder.each).
//
// The two halves run in different threads: the storage worker runs the query (`readDevicePages`,
// the SQL's part, which SQLite spends building the JSON texts) and sends the rows, two strings
// per host, a page of hosts at a time, to the main thread, which decodes them (`DeviceDecoder`)
// where the registry lives, into records or straight into the registry's load (`each`): records cannot cross threads cheaply (a structured clone of 160,000 of them
// cost as much as reading them), strings can. This module imports better-sqlite3's types only,
// so the main thread loads no SQLite to decode.
//
// The records are exactly what a row-by-row read gives (rows.ts deviceFromRow); the test
// store-contract.test.ts compares both on the same file.

import type Database from 'better-sqlite3';
import type { Capacity } from '../core/model.ts';
import type { Labels } from '../core/resources.ts';
import type { DeviceRecord } from '../core/store.ts';

/** How many values each device takes in its host's array (DEVICES_BY_HOST_PAGE), in this order. */
const DEVICE_VALUES = 9;

/**
 * A page of hosts after a host id (exclusive; '' for the first page), in id order, each with its
 * devices in id order (the devices table's key order) as one flat JSON array, nine values per
 * device: device id, descriptor id, capacity total and available (null without a capacity),
 * labels as a JSON text, revision, create revision, create and update times. Flat, not an array
 * per device: JSON.parse then makes one array per host, not one per device as well.
 */
export const DEVICES_BY_HOST_PAGE = `SELECT host_id, '[' || group_concat(json_quote(device_id) || ',' || descriptor_id || ',' ||
    ifnull(capacity_total, 'null') || ',' || ifnull(capacity_available, 'null') || ',' || json_quote(labels) || ',' ||
    revision || ',' || create_revision || ',' || create_time_ms || ',' || update_time_ms, ',' ORDER BY device_id) || ']'
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

/** A DeviceRecord whose fields the decoder sets anew for each device it hands out. */
type ScratchRecord = { -readonly [K in keyof DeviceRecord]: DeviceRecord[K] };

/**
 * Decodes pages of rows into records, in the order given (the registry's half). Equal label
 * texts and capacities across all its pages give one shared object.
 */
export class DeviceDecoder {
  readonly devices: DeviceRecord[] = [];
  private readonly labelsByText = new Map<string, Labels>();
  private readonly capacities = new Map<string, Capacity>();

  /** Decodes `rows` into records of their own, appended to `devices` (by default, this decoder's own list). */
  decode(rows: DeviceRows, devices: DeviceRecord[] = this.devices): void {
    this.each(rows, (record) => devices.push({ ...record }));
  }

  /**
   * Hands each device of `rows` to `visit` as one record object reused for every device (a
   * restart's 160,000 devices make no record each: the live state keeps none of them). `visit`
   * must copy what it keeps, never the record itself.
   */
  each(rows: DeviceRows, visit: (record: DeviceRecord) => void): void {
    const { labelsByText, capacities } = this;
    const record: ScratchRecord = {
      hostId: '',
      deviceId: '',
      descriptorId: 0,
      capacity: undefined,
      labels: {},
      revision: 0,
      createRevision: 0,
      createTime: 0,
      updateTime: 0,
    };
    for (const [hostId, encoded] of rows) {
      const values = JSON.parse(encoded) as unknown[];
      if (values.length % DEVICE_VALUES !== 0) throw new Error(`host ${hostId}'s devices are not in the expected form (${values.length} values)`);
      record.hostId = hostId;
      for (let i = 0; i < values.length; i += DEVICE_VALUES) {
        const total = values[i + 2] as number | null;
        const available = values[i + 3] as number | null;
        const labelsText = values[i + 4] as string;
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
        record.deviceId = values[i] as string;
        record.descriptorId = values[i + 1] as number;
        record.capacity = capacity;
        record.labels = labels;
        record.revision = values[i + 5] as number;
        record.createRevision = values[i + 6] as number;
        record.createTime = values[i + 7] as number;
        record.updateTime = values[i + 8] as number;
        visit(record);
      }
    }
  }
}
