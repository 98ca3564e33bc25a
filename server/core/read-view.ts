// The one read path. A ReadView is the registry at one revision — now, or a past revision
// given by `as_of_revision` / `as_of_time` — with the same calls either way (etcd's read view
// with an optional revision): a handler asks `registry.read(asOf)` for a view and reads from
// it, never choosing between "now" and "past" functions. The current view reads the live
// state; a past view reads one device with a targeted history query and materializes the whole
// past registry (point-in-time.ts) only for a listing or a FindTargets.
//
// May call: live-state.ts reads, point-in-time.ts, find-targets.ts, validation of inline
// descriptors (descriptor-memo.ts) and of names (resources.ts).

import { invalidArgument } from './errors.ts';
import type { DescriptorInput } from './model.ts';
import { validateDescriptorMemoized } from './descriptor-memo.ts';
import type { DeviceListQuery, LiveDevice, LiveState } from './live-state.ts';
import type { FindOptions, FindResult, ResolvedDevice, TargetFinder } from './find-targets.ts';
import type { AsOf, DeviceAt, PointInTime } from './point-in-time.ts';
import { parseDeviceName } from './resources.ts';

/** How a request names a source or target: a registered device's name or an inline descriptor. */
export interface DeviceRef {
  readonly name?: string;
  readonly descriptor?: DescriptorInput | null;
}

export interface ReadView {
  /** The revision this view reflects (for the current view: the latest, as of each call). */
  readonly revision: number;
  /** One device; NOT_FOUND when it does not exist at this revision. */
  device(hostId: string, deviceId: string): Promise<DeviceAt>;
  /** A source or target reference, a name read at this revision. `field` names it in errors. */
  resolve(ref: DeviceRef | null | undefined, field: string): Promise<ResolvedDevice>;
  /**
   * A FindTargets source: resolved within the devices the search will walk (for a past view,
   * the materialized registry of that revision).
   */
  resolveSource(ref: DeviceRef | null | undefined, field: string): Promise<ResolvedDevice>;
  /** A page of devices in (host, device) order. */
  listDevices(query: DeviceListQuery): Promise<LiveDevice[]>;
  findTargets(source: ResolvedDevice, options: FindOptions): Promise<FindResult>;
}

/**
 * Resolves a reference against the current state, synchronously: the hot path of checks
 * (CheckCompatibilityStream) and of standing queries. An inline descriptor is validated
 * (memoized: agents send the same few again and again).
 */
export function resolveCurrent(state: LiveState, ref: DeviceRef | null | undefined, field: string): ResolvedDevice {
  if (ref?.name) {
    const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
    const device = state.getDevice(hostId, deviceId);
    return { descriptor: device.entry.descriptor, device };
  }
  return { descriptor: inlineDescriptor(ref, field) };
}

function inlineDescriptor(ref: DeviceRef | null | undefined, field: string) {
  if (ref?.descriptor) return validateDescriptorMemoized(ref.descriptor, `${field}.descriptor.`);
  throw invalidArgument([{ field, description: 'required: a registered device name or an inline descriptor' }]);
}

/** The registry now. */
export class CurrentView implements ReadView {
  constructor(
    private readonly state: LiveState,
    private readonly finder: TargetFinder,
  ) {}

  get revision(): number {
    return this.state.revision;
  }

  async device(hostId: string, deviceId: string): Promise<DeviceAt> {
    const device = this.state.getDevice(hostId, deviceId);
    return { record: device.record, name: device.name, descriptor: device.entry.descriptor, budgets: device.host.record.budgets ?? [] };
  }

  async resolve(ref: DeviceRef | null | undefined, field: string): Promise<ResolvedDevice> {
    return resolveCurrent(this.state, ref, field);
  }

  resolveSource(ref: DeviceRef | null | undefined, field: string): Promise<ResolvedDevice> {
    return this.resolve(ref, field);
  }

  async listDevices(query: DeviceListQuery): Promise<LiveDevice[]> {
    if (query.descriptorIds?.size === 0) return [];
    return this.state.listDevices(query);
  }

  async findTargets(source: ResolvedDevice, options: FindOptions): Promise<FindResult> {
    return this.finder.find(source, options);
  }
}

/** The registry at a past revision (already resolved: not compacted, not in the future). */
export class PastReadView implements ReadView {
  constructor(
    readonly revision: number,
    private readonly pointInTime: PointInTime,
    private readonly finder: TargetFinder,
  ) {}

  device(hostId: string, deviceId: string): Promise<DeviceAt> {
    return this.pointInTime.deviceAt(hostId, deviceId, this.revision);
  }

  async resolve(ref: DeviceRef | null | undefined, field: string): Promise<ResolvedDevice> {
    if (ref?.name) {
      const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
      const device = await this.device(hostId, deviceId);
      return { descriptor: device.descriptor, device };
    }
    return { descriptor: inlineDescriptor(ref, field) };
  }

  async resolveSource(ref: DeviceRef | null | undefined, field: string): Promise<ResolvedDevice> {
    const view = await this.pointInTime.viewAt(this.revision);
    if (ref?.name) {
      const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
      const device = view.getDevice(hostId, deviceId);
      return { descriptor: device.entry.descriptor, device };
    }
    return { descriptor: inlineDescriptor(ref, field) };
  }

  async listDevices(query: DeviceListQuery): Promise<LiveDevice[]> {
    const view = await this.pointInTime.viewAt(this.revision);
    if (query.descriptorIds?.size === 0) return [];
    return view.listDevices(query);
  }

  async findTargets(source: ResolvedDevice, options: FindOptions): Promise<FindResult> {
    return this.finder.find(source, options, await this.pointInTime.viewAt(this.revision));
  }
}

/** The view a read asks for: now when `asOf` is undefined, else the revision it resolves to. */
export async function openReadView(
  asOf: AsOf | undefined,
  current: CurrentView,
  pointInTime: PointInTime,
  finder: TargetFinder,
): Promise<ReadView> {
  if (!asOf) return current;
  return new PastReadView(await pointInTime.resolveAsOf(asOf), pointInTime, finder);
}
