// A local, always-current copy of the registry for a process that reads it often (a
// scheduler): list everything once, then follow the watch feed. The list records the revision
// R of its first page and the watch starts at R + 1; later pages may already reflect some of
// the revisions after R, so an event is applied to a resource only when it is newer than the
// resource's mirrored revision (a deletion too). When the revision to resume from has been
// compacted away, the mirror lists again and follows from there. An unavailable or overloaded
// server (UNAVAILABLE; RESOURCE_EXHAUSTED for a limit of the moment: OVERLOADED, such as too
// many watches on the connection, or a server over its memory budget) is waited out with
// backoff; anything else stops the mirror (a message over a size limit would fail again).
//
// Figures the server works out live rather than records (a host's lease expiry and last sync
// time, a device's `free_units` and `claimed`, a budget's `claimed`) are not in the feed's
// snapshots: the mirror has them as of its listing, and a device or host a later event
// replaced has them at their defaults. Read them with GetDevice/ListDevices when they matter.
//
// The mirror reads through the three calls of MirrorSource, which DevcompatClient has: it
// depends on that interface, not on the client, so client.ts (which exports the mirror) and
// this file do not import each other.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ErrorReason } from '../proto/wire.ts';
import { backoffMs, DEFAULT_RETRY, DevcompatError, hostName, sleep } from './errors.ts';
import type { Device, Host, WatchEvent, WatchOptions, WatchResponse } from './types.ts';

/** A failure the mirror waits out: a server unavailable, or refusing for now (a limit on open watches or searches, load shed). */
function passing(failure: DevcompatError): boolean {
  if (failure.code === grpc.status.UNAVAILABLE) return true;
  if (failure.code !== grpc.status.RESOURCE_EXHAUSTED) return false;
  return failure.reason === ErrorReason.OVERLOADED || (failure.reason === undefined && /over its memory budget/.test(failure.message));
}

/** What the mirror reads the registry through: a DevcompatClient. */
export interface MirrorSource {
  /** One page of every host, and the revision it reflects. */
  listHostsPage(request: { pageSize?: number; pageToken?: string }): Promise<{ hosts: Host[]; next_page_token: string; revision: string }>;
  /** One page of every device. */
  listDevicesPage(request: { pageSize?: number; pageToken?: string }): Promise<{ devices: Device[]; next_page_token: string }>;
  /** The change feed from a revision, resuming by itself on UNAVAILABLE. */
  watch(options: WatchOptions): AsyncIterable<WatchResponse>;
}

export interface MirrorOptions {
  /** Page size of the (re)listing; default 1000, the server's maximum. */
  readonly pageSize?: number;
  /** How often a quiet feed reports the current revision (waitForRevision relies on it); default 1000 ms. */
  readonly progressIntervalMs?: number;
}

/** The events of one revision that changed the mirror. */
export interface MirrorChange {
  readonly revision: string;
  readonly events: readonly WatchEvent[];
}

export interface MirrorDeviceFilter {
  vendor?: string;
  device_api?: string;
  type?: string;
  /** `hosts/{host}` or the bare id. */
  host?: string;
}

export interface MirrorEvents {
  /** Events of one revision were applied. */
  change: [change: MirrorChange];
  /** The mirror listed the registry again (its feed had been compacted away) at this revision. */
  resync: [revision: string];
  /** The mirror stopped for good: it can neither follow nor list (not for UNAVAILABLE or a server overloaded for now, which it waits out). */
  error: [error: DevcompatError];
}

interface Waiter {
  readonly revision: bigint;
  resolve(): void;
  reject(error: DevcompatError): void;
}

/** Host id and device id of `hosts/{host}/devices/{device}`. */
function parseDeviceName(name: string): { host: string; device: string } {
  const match = /^hosts\/([^/]+)\/devices\/([^/]+)$/.exec(name);
  if (!match) throw new Error(`not a device name: ${name}`);
  return { host: match[1], device: match[2] };
}

const byKey = <T>(entries: Iterable<[string, T]>): T[] =>
  [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);

export class RegistryMirror extends EventEmitter<MirrorEvents> {
  /** Hosts by id, as listed or as their last event left them (device_count is recomputed). */
  private hostsById = new Map<string, Host>();
  /** Devices by host id, then device id. */
  private devicesByHost = new Map<string, Map<string, Device>>();
  private revisionValue = 0n;
  private readonly waiters = new Set<Waiter>();
  private readonly stop = new AbortController();
  private following: Promise<void> | undefined;
  private failureValue: DevcompatError | undefined;
  private readonly pageSize: number;
  private readonly progressIntervalMs: number;

  constructor(
    private readonly client: MirrorSource,
    options: MirrorOptions = {},
  ) {
    super();
    this.pageSize = options.pageSize ?? 1000;
    this.progressIntervalMs = options.progressIntervalMs ?? 1000;
  }

  /** Lists the registry, then follows its changes in the background. Rejects if the first listing fails. */
  async start(): Promise<void> {
    if (this.following) throw new Error('the mirror is already started');
    await this.relist();
    this.following = this.follow();
  }

  /**
   * The last revision the mirror has applied: every change up to it is reflected. While it
   * catches up after a listing, some resources may already be newer than this.
   */
  get revision(): string {
    return String(this.revisionValue);
  }

  /** Why the mirror stopped, when it did. */
  get failure(): DevcompatError | undefined {
    return this.failureValue;
  }

  getHost(name: string): Host | undefined {
    const id = hostName(name).slice('hosts/'.length);
    const host = this.hostsById.get(id);
    return host && this.withDeviceCount(id, host);
  }

  getDevice(name: string): Device | undefined {
    const { host, device } = parseDeviceName(name);
    return this.devicesByHost.get(host)?.get(device);
  }

  /** Every host, in host id order (the order of ListHosts). */
  hosts(): Host[] {
    return byKey(this.hostsById.entries()).map((host) => this.withDeviceCount(host.name.slice('hosts/'.length), host));
  }

  /** Devices matching the filter, in (host id, device id) order (the order of ListDevices). */
  devices(filter: MirrorDeviceFilter = {}): Device[] {
    const hostIds = filter.host ? [hostName(filter.host).slice('hosts/'.length)] : [...this.devicesByHost.keys()].sort();
    const found: Device[] = [];
    for (const hostId of hostIds) {
      const devices = this.devicesByHost.get(hostId);
      if (!devices) continue;
      for (const device of byKey(devices.entries())) {
        const descriptor = device.descriptor;
        if (filter.vendor && descriptor.vendor !== filter.vendor) continue;
        if (filter.device_api && descriptor.device_api !== filter.device_api) continue;
        if (filter.type && descriptor.type !== filter.type) continue;
        found.push(device);
      }
    }
    return found;
  }

  /**
   * Resolves once the mirror has applied revision `revision` or a later one (through events or
   * progress messages), e.g. the revision a write of this process returned; rejects with
   * DEADLINE_EXCEEDED after `timeoutMs`, or when the mirror stops.
   */
  waitForRevision(revision: string | number, timeoutMs: number): Promise<void> {
    const wanted = BigInt(revision);
    if (this.revisionValue >= wanted) return Promise.resolve();
    if (this.failureValue) return Promise.reject(this.failureValue);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new DevcompatError({
            code: grpc.status.DEADLINE_EXCEEDED,
            message: `the mirror did not reach revision ${wanted} within ${timeoutMs} ms (it is at ${this.revisionValue})`,
          }),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        revision: wanted,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Stops following; waiting callers are rejected with CANCELLED. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.following;
    this.rejectWaiters(new DevcompatError({ code: grpc.status.CANCELLED, message: 'the mirror is closed' }));
  }

  private withDeviceCount(hostId: string, host: Host): Host {
    return { ...host, device_count: this.devicesByHost.get(hostId)?.size ?? 0 };
  }

  /** Lists hosts, then devices, and replaces the mirror's content in one step. */
  private async relist(): Promise<void> {
    const hosts = new Map<string, Host>();
    const devices = new Map<string, Map<string, Device>>();
    let first: bigint | undefined;
    let token = '';
    do {
      const page = await this.client.listHostsPage({ pageSize: this.pageSize, pageToken: token });
      first ??= BigInt(page.revision);
      for (const host of page.hosts) hosts.set(host.name.slice('hosts/'.length), host);
      token = page.next_page_token;
    } while (token);
    do {
      const page = await this.client.listDevicesPage({ pageSize: this.pageSize, pageToken: token });
      for (const device of page.devices) {
        const { host, device: id } = parseDeviceName(device.name);
        let ofHost = devices.get(host);
        if (!ofHost) devices.set(host, (ofHost = new Map()));
        ofHost.set(id, device);
      }
      token = page.next_page_token;
    } while (token);
    this.hostsById = hosts;
    this.devicesByHost = devices;
    this.revisionValue = first!;
  }

  /** Follows the feed from revision + 1 until closed: waits out a busy or unavailable server, relists when compacted. */
  private async follow(): Promise<void> {
    const signal = this.stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        for await (const message of this.client.watch({
          startRevision: String(this.revisionValue + 1n),
          progressIntervalMs: this.progressIntervalMs,
          signal,
        })) {
          failures = 0;
          this.apply(message);
        }
        return; // closed
      } catch (error) {
        if (signal.aborted) return;
        const failure = DevcompatError.from(error);
        if (failure.code === grpc.status.OUT_OF_RANGE) {
          try {
            await this.relist();
            // Listeners hear of the relist before waiters resume.
            this.emit('resync', this.revision);
            this.settleWaiters();
            continue;
          } catch (relistError) {
            const relistFailure = DevcompatError.from(relistError);
            if (!passing(relistFailure)) return this.fail(relistFailure);
          }
        } else if (!passing(failure)) {
          return this.fail(failure);
        }
        await sleep(backoffMs(DEFAULT_RETRY, ++failures), signal);
      }
    }
  }

  private apply(message: WatchResponse): void {
    if (message.created) return;
    const revision = BigInt(message.revision);
    if (!message.progress) {
      // Host events first: a device event of the same revision then finds its host current.
      const hostEvents = message.events.filter((event) => !event.resource.includes('/devices/'));
      const deviceEvents = message.events.filter((event) => event.resource.includes('/devices/'));
      const applied = [
        ...hostEvents.filter((event) => this.applyHost(event, revision)),
        ...deviceEvents.filter((event) => this.applyDevice(event, revision, message.time)),
      ];
      if (applied.length > 0) this.emit('change', { revision: message.revision, events: applied });
    }
    if (revision > this.revisionValue) this.revisionValue = revision;
    this.settleWaiters();
  }

  private applyHost(event: WatchEvent, revision: bigint): boolean {
    const id = event.resource.slice('hosts/'.length);
    const current = this.hostsById.get(id);
    if (current && BigInt(current.revision) >= revision) return false;
    if (event.kind === 'CHANGE_KIND_DELETED' || !event.after?.host) {
      if (!current) return false;
      this.hostsById.delete(id);
    } else {
      this.hostsById.set(id, event.after.host);
    }
    return true;
  }

  private applyDevice(event: WatchEvent, revision: bigint, time: Date | null): boolean {
    const { host, device: id } = parseDeviceName(event.resource);
    // A host's revision and update time are those of its last change, its devices' included.
    const owner = this.hostsById.get(host);
    if (owner && BigInt(owner.revision) < revision) {
      this.hostsById.set(host, { ...owner, revision: String(revision), update_time: time ?? owner.update_time });
    }
    let devices = this.devicesByHost.get(host);
    const current = devices?.get(id);
    if (current && BigInt(current.revision) >= revision) return false;
    if (event.kind === 'CHANGE_KIND_DELETED' || !event.after?.device) {
      if (!current) return false;
      devices!.delete(id);
      if (devices!.size === 0) this.devicesByHost.delete(host);
    } else {
      if (!devices) this.devicesByHost.set(host, (devices = new Map()));
      devices.set(id, event.after.device);
    }
    return true;
  }

  private settleWaiters(): void {
    for (const waiter of this.waiters) {
      if (this.revisionValue < waiter.revision) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  private rejectWaiters(error: DevcompatError): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private fail(error: DevcompatError): void {
    this.failureValue = error;
    this.rejectWaiters(error);
    this.emit('error', error);
  }
}
