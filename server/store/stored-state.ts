// A load of the SQLite store as it crosses from the storage worker to the main thread, in three
// parts: the tables (descriptors, hosts with their lease expiries, claims) and the devices, the
// hosts and devices still encoded as JSON texts, which the worker reads as soon as the migrations are applied and sends
// ahead, and the head (revision, chain head, checkpoint), which the start-up checks may still
// move and which comes with the worker's verdict. `loadedState` joins them in the thread that
// keeps the registry, decoding the devices there (sqlite-device-load.ts). A module of its own
// so that the main thread imports no SQLite to do it.

import type { Checkpoint, DeviceRecord, LoadedState, LoadedTables, StateLoad } from '../core/store.ts';
import { DeviceDecoder, type DeviceRows } from './sqlite-device-load.ts';
import { decodeHosts, type EncodedHosts } from './sqlite-host-load.ts';

/** The registry's tables as read for a load, but the devices (sent apart, encoded: sqlite-device-load.ts). */
export interface StoredTables extends LoadedTables {
  readonly claims: NonNullable<LoadedState['claims']>;
}

/** The tables as they cross from the storage worker: the hosts and their lease expiries as one text (sqlite-host-load.ts). */
export interface EncodedTables {
  readonly descriptors: StoredTables['descriptors'];
  readonly hosts: EncodedHosts;
  readonly claims: StoredTables['claims'];
}

/** The tables, the hosts decoded here (in the calling thread). */
export function decodeTables({ descriptors, hosts, claims }: EncodedTables): StoredTables {
  return { descriptors, ...decodeHosts(hosts), claims };
}

/** The rest of a load: what the start-up checks may still move (a restore or a re-anchoring adds a revision). */
export interface StoredHead {
  readonly revision: number;
  readonly revisionTime: number;
  readonly headHash: string;
  readonly checkpoint: Checkpoint;
}

/** A load as the storage worker sends it in one answer, the devices encoded; `loadedState` makes it a LoadedState. */
export interface StoredState {
  readonly tables: EncodedTables;
  readonly devices: DeviceRows;
  readonly head: StoredHead;
}

/** The registry's state from its parts, the devices decoded here (in the calling thread). */
export function loadedState({ tables, devices, head }: StoredState): LoadedState {
  const decoder = new DeviceDecoder();
  decoder.decode(devices);
  return joinedState(decodeTables(tables), decoder.devices, head);
}

/**
 * The registry's state from its parts, the devices already decoded; or, when they were given
 * to `load` as they were read (StateLoad), the state naming it, without devices of its own.
 */
export function joinedState(tables: StoredTables, devices: DeviceRecord[], head: StoredHead, load?: StateLoad): LoadedState {
  return load ? { ...tables, ...head, devices: [], devicesLoadedInto: load } : { ...tables, ...head, devices };
}
