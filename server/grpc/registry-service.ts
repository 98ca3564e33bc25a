// RegistryService handlers: decode, validate, call the registry, encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Violations, invalidArgument } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import {
  checkFilterString,
  optionalRevision,
  parseDeviceName,
  parseHostRef,
  validateLabels,
  validateSyncHost,
} from '../core/resources.ts';
import { parseRangeStrict, satisfiesRange } from '../core/version.ts';
import { deviceMessage, liveDeviceMessage, liveHostMessage, timestamp } from './convert.ts';
import { asOfOf, decodePageToken, encodePageToken, STRING_CURSOR, STRING_PAIR_CURSOR, originOf, pageSize, unary } from './common.ts';
import { toStatusMessage } from './errors.ts';
import { bidiStream, type StreamTracker } from './streams.ts';
import type { SyncHostRequest__Output } from '../../proto/generated/devcompat/v1/SyncHostRequest.ts';
import type { DeleteHostRequest__Output } from '../../proto/generated/devcompat/v1/DeleteHostRequest.ts';
import type { SetHostDrainingRequest__Output } from '../../proto/generated/devcompat/v1/SetHostDrainingRequest.ts';
import type { KeepAliveRequest__Output } from '../../proto/generated/devcompat/v1/KeepAliveRequest.ts';
import type { GetHostRequest__Output } from '../../proto/generated/devcompat/v1/GetHostRequest.ts';
import type { ListHostsRequest__Output } from '../../proto/generated/devcompat/v1/ListHostsRequest.ts';
import type { GetDeviceRequest__Output } from '../../proto/generated/devcompat/v1/GetDeviceRequest.ts';
import type { ListDevicesRequest__Output } from '../../proto/generated/devcompat/v1/ListDevicesRequest.ts';
import type { DeviceFilter__Output } from '../../proto/generated/devcompat/v1/DeviceFilter.ts';

export function registryHandlers(registry: Registry, streams: StreamTracker, log: Logger): grpc.UntypedServiceImplementation {
  return {
    SyncHost: unary(log, async (request: SyncHostRequest__Output, call) => {
      const origin = originOf(call);
      const command = validateSyncHost(request);
      const result = await registry.syncHost(command, origin);
      return {
        revision: String(result.revision),
        host: liveHostMessage(result.host, registry.budgetClaims(result.host)),
        changed: result.changed,
        devices_created: result.created,
        devices_updated: result.updated,
        devices_deleted: result.deleted,
        head_hash: registry.headHash,
      };
    }),

    DeleteHost: unary(log, async (request: DeleteHostRequest__Output, call) => {
      const origin = originOf(call);
      const hostId = parseHostRef(request.name ?? '', 'name');
      const violations = new Violations();
      const expected = optionalRevision(request.expected_revision, 'expected_revision', violations);
      violations.throwIfAny();
      const result = await registry.deleteHost(hostId, expected, origin);
      return { revision: String(result.revision), devices_deleted: result.devicesDeleted, head_hash: registry.headHash };
    }),

    SetHostDraining: unary(log, async (request: SetHostDrainingRequest__Output, call) => {
      const origin = originOf(call);
      const hostId = parseHostRef(request.name ?? '', 'name');
      const result = await registry.setDraining(hostId, request.draining ?? false, origin);
      return {
        host: liveHostMessage(result.host, registry.budgetClaims(result.host)),
        revision: String(result.revision),
        changed: result.changed,
        head_hash: registry.headHash,
      };
    }),

    KeepAlive: bidiStream(streams, log, (request: KeepAliveRequest__Output) => {
      const name = request.name ?? '';
      try {
        const hostId = parseHostRef(name, 'name');
        const lease = registry.keepAlive(hostId);
        return {
          name: `hosts/${hostId}`,
          lease_expire_time: timestamp(lease.expireTime),
          ttl_ms: registry.leaseTtlMs,
          state: `HOST_STATE_${lease.state}`,
        };
      } catch (error) {
        return { name, ttl_ms: registry.leaseTtlMs, error: toStatusMessage(error, log) };
      }
    }),

    GetHost: unary(log, (request: GetHostRequest__Output) => {
      const host = registry.getHost(parseHostRef(request.name ?? '', 'name'));
      return { host: liveHostMessage(host, registry.budgetClaims(host)), revision: String(registry.revision) };
    }),

    ListHosts: unary(log, (request: ListHostsRequest__Output) => {
      const violations = new Violations();
      const labels = validateLabels(request.labels, 'labels', violations);
      violations.throwIfAny();
      const limit = pageSize(request.page_size);
      const filter = { labels };
      const after = decodePageToken(request.page_token, filter, STRING_CURSOR);
      const hosts = registry.listHosts({ labels, afterHostId: after, limit: limit + 1 });
      const page = hosts.slice(0, limit);
      return {
        hosts: page.map((host) => liveHostMessage(host, registry.budgetClaims(host))),
        next_page_token: hosts.length > limit ? encodePageToken(filter, page.at(-1)!.record.hostId) : '',
        revision: String(registry.revision),
      };
    }),

    GetDevice: unary(log, async (request: GetDeviceRequest__Output) => {
      const { hostId, deviceId } = parseDeviceName(request.name ?? '', 'name');
      const view = await registry.read(asOfOf(request));
      const device = await view.device(hostId, deviceId);
      const present = view.revision === registry.revision;
      const claimed = present ? registry.claimedOn(hostId, deviceId) : 0;
      return {
        device: { ...deviceMessage(device.record, registry), claimed, free_units: registry.freeUnitsAt(device, present) },
        revision: String(view.revision),
      };
    }),

    ListDevices: unary(log, async (request: ListDevicesRequest__Output) => {
      const filter: Partial<DeviceFilter__Output> = request.filter ?? {};
      const violations = new Violations();
      const labels = validateLabels(filter.labels, 'filter.labels', violations);
      const hostLabels = validateLabels(filter.host_labels, 'filter.host_labels', violations);
      checkFilterString(filter.vendor, 'filter.vendor', violations);
      checkFilterString(filter.device_api, 'filter.device_api', violations);
      checkFilterString(filter.type, 'filter.type', violations);
      violations.throwIfAny();
      const hostId = filter.host ? parseHostRef(filter.host, 'filter.host') : undefined;
      const rangeText = filter.software_version_range ?? '';
      const range = rangeText ? parseRangeStrict(rangeText) : undefined;
      if (range === null) {
        throw invalidArgument([
          { field: 'filter.software_version_range', description: `"${rangeText}" is not a valid semver range` },
        ]);
      }
      const limit = pageSize(request.page_size);
      const asOf = asOfOf(request);
      const fingerprint = { ...filter, labels, host_labels: hostLabels, as_of: asOf ?? null };
      const after = decodePageToken(request.page_token, fingerprint, STRING_PAIR_CURSOR);
      const view = await registry.read(asOf);
      const descriptorIds = registry.matchingDescriptorIds({
        vendor: filter.vendor ?? '',
        deviceApi: filter.device_api ?? '',
        type: filter.type ?? '',
        versionMatches: range ? (descriptor) => satisfiesRange(descriptor.softwareVersion, range) : undefined,
      });
      const query = {
        descriptorIds,
        hostId,
        labels,
        hostLabels,
        after: after && { hostId: after[0], deviceId: after[1] },
        limit: limit + 1,
      };
      const devices = await view.listDevices(query);
      const page = devices.slice(0, limit);
      const last = page.at(-1);
      return {
        // Claims are counted in the present only (a past view has no claim book).
        devices: page.map((device) =>
          liveDeviceMessage(
            device,
            asOf === undefined ? registry.claimedOn(device.record.hostId, device.record.deviceId) : 0,
            registry.freeUnitsOf(device, asOf !== undefined),
          ),
        ),
        next_page_token:
          devices.length > limit && last ? encodePageToken(fingerprint, [last.record.hostId, last.record.deviceId]) : '',
        revision: String(view.revision),
      };
    }),
  };
}
