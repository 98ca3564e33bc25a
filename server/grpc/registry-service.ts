// RegistryService handlers: decode, validate, call the registry, encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Violations, invalidArgument } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import {
  optionalRevision,
  parseDeviceName,
  parseHostRef,
  validateLabels,
  validateSyncHost,
  type SyncHostInput,
} from '../core/resources.ts';
import { parseRangeStrict, satisfiesRange } from '../core/version.ts';
import { deviceMessage, liveDeviceMessage, liveHostMessage, timestamp } from './convert.ts';
import { asOfOf, decodePageToken, encodePageToken, originOf, pageSize, unary, type AsOfInput } from './common.ts';
import { toStatusMessage } from './errors.ts';
import type { StreamTracker } from './streams.ts';

interface DeviceFilterInput {
  vendor?: string;
  device_api?: string;
  type?: string;
  host?: string;
  labels?: Record<string, string>;
  host_labels?: Record<string, string>;
  software_version_range?: string;
}

export function registryHandlers(registry: Registry, streams: StreamTracker, log: Logger): grpc.UntypedServiceImplementation {
  return {
    SyncHost: unary(log, async (request: SyncHostInput, call) => {
      const origin = originOf(call.metadata);
      const command = validateSyncHost(request);
      const result = await registry.syncHost(command, origin);
      return {
        revision: String(result.revision),
        host: liveHostMessage(result.host),
        changed: result.changed,
        devices_created: result.created,
        devices_updated: result.updated,
        devices_deleted: result.deleted,
        head_hash: registry.headHash,
      };
    }),

    DeleteHost: unary(log, async (request: { name?: string; expected_revision?: string }, call) => {
      const origin = originOf(call.metadata);
      const hostId = parseHostRef(request.name ?? '', 'name');
      const violations = new Violations();
      const expected = optionalRevision(request.expected_revision, 'expected_revision', violations);
      violations.throwIfAny();
      const result = await registry.deleteHost(hostId, expected, origin);
      return { revision: String(result.revision), devices_deleted: result.devicesDeleted, head_hash: registry.headHash };
    }),

    SetHostDraining: unary(log, async (request: { name?: string; draining?: boolean }, call) => {
      const origin = originOf(call.metadata);
      const hostId = parseHostRef(request.name ?? '', 'name');
      const result = await registry.setDraining(hostId, request.draining ?? false, origin);
      return {
        host: liveHostMessage(result.host),
        revision: String(result.revision),
        changed: result.changed,
        head_hash: registry.headHash,
      };
    }),

    KeepAlive: (call: grpc.ServerDuplexStream<{ name?: string }, unknown>) => {
      streams.track(call);
      call.on('data', (request: { name?: string }) => {
        const name = request.name ?? '';
        let response: object;
        try {
          const hostId = parseHostRef(name, 'name');
          const lease = registry.keepAlive(hostId);
          response = {
            name: `hosts/${hostId}`,
            lease_expire_time: timestamp(lease.expireTime),
            ttl_ms: registry.leaseTtlMs,
            state: `HOST_STATE_${lease.state}`,
          };
        } catch (error) {
          response = { name, ttl_ms: registry.leaseTtlMs, error: toStatusMessage(error, log) };
        }
        if (!call.write(response)) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      });
      call.on('end', () => call.end());
    },

    GetHost: unary(log, (request: { name?: string }) => {
      const host = registry.getHost(parseHostRef(request.name ?? '', 'name'));
      return { host: liveHostMessage(host), revision: String(registry.revision) };
    }),

    ListHosts: unary(log, (request: { page_size?: number; page_token?: string; labels?: Record<string, string> }) => {
      const violations = new Violations();
      const labels = validateLabels(request.labels, 'labels', violations);
      violations.throwIfAny();
      const limit = pageSize(request.page_size);
      const filter = { labels };
      const after = decodePageToken<string>(request.page_token, filter);
      const hosts = registry.listHosts({ labels, afterHostId: after, limit: limit + 1 });
      const page = hosts.slice(0, limit);
      return {
        hosts: page.map(liveHostMessage),
        next_page_token: hosts.length > limit ? encodePageToken(filter, page.at(-1)!.record.hostId) : '',
        revision: String(registry.revision),
      };
    }),

    GetDevice: unary(log, async (request: { name?: string } & AsOfInput) => {
      const { hostId, deviceId } = parseDeviceName(request.name ?? '', 'name');
      const view = await registry.read(asOfOf(request));
      const { record } = await view.device(hostId, deviceId);
      return { device: deviceMessage(record, registry), revision: String(view.revision) };
    }),

    ListDevices: unary(log, async (request: { page_size?: number; page_token?: string; filter?: DeviceFilterInput | null } & AsOfInput) => {
      const filter = request.filter ?? {};
      const violations = new Violations();
      const labels = validateLabels(filter.labels, 'filter.labels', violations);
      const hostLabels = validateLabels(filter.host_labels, 'filter.host_labels', violations);
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
      const after = decodePageToken<[string, string]>(request.page_token, fingerprint);
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
        devices: page.map(liveDeviceMessage),
        next_page_token:
          devices.length > limit && last ? encodePageToken(fingerprint, [last.record.hostId, last.record.deviceId]) : '',
        revision: String(view.revision),
      };
    }),
  };
}
