// The registry's live state built while the store opens: a store that reads its devices in
// pages before its start-up checks have passed (SQLite's storage worker checks the history
// chain and the head anchor meanwhile) hands them here, and the main thread indexes each page
// as it arrives instead of waiting for the checks' verdict and building the state then. The
// state has no revision or head until the store's first load() names this load
// (`devicesLoadedInto`) and gives its head; a store that refuses to open never does, and
// everything given here is dropped with this object.
//
// May import: live-state.ts, leases.ts, store.ts types.

import { loadedLeaseExpiry } from './leases.ts';
import { LiveState } from './live-state.ts';
import type { DeviceRecord, LoadedState, LoadedTables, StateLoad } from './store.ts';

export class LiveStateLoad implements StateLoad {
  private state: LiveState | undefined;

  constructor(private readonly leaseTtlMs: number) {}

  tables(tables: LoadedTables): void {
    if (this.state) throw new Error('the load gave its tables twice');
    const { leaseExpiries } = tables;
    const ttl = this.leaseTtlMs;
    this.state = LiveState.loading(tables, (record) => loadedLeaseExpiry(record, leaseExpiries, ttl));
  }

  device(record: DeviceRecord): void {
    if (!this.state) throw new Error('the load gave devices before its tables');
    this.state.addLoadedDevice(record);
  }

  /** The state built, with the head of `loaded` (the store's first load, which named this load); once. */
  finish(loaded: LoadedState): LiveState {
    const state = this.state;
    if (!state) throw new Error('the store named a load it gave no tables');
    this.state = undefined;
    state.loadedHead(loaded);
    return state;
  }
}
