// Original file: proto/devcompat/v1/registry.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeleteHostRequest as _devcompat_v1_DeleteHostRequest, DeleteHostRequest__Output as _devcompat_v1_DeleteHostRequest__Output } from '../../devcompat/v1/DeleteHostRequest.ts';
import type { DeleteHostResponse as _devcompat_v1_DeleteHostResponse, DeleteHostResponse__Output as _devcompat_v1_DeleteHostResponse__Output } from '../../devcompat/v1/DeleteHostResponse.ts';
import type { GetDeviceRequest as _devcompat_v1_GetDeviceRequest, GetDeviceRequest__Output as _devcompat_v1_GetDeviceRequest__Output } from '../../devcompat/v1/GetDeviceRequest.ts';
import type { GetDeviceResponse as _devcompat_v1_GetDeviceResponse, GetDeviceResponse__Output as _devcompat_v1_GetDeviceResponse__Output } from '../../devcompat/v1/GetDeviceResponse.ts';
import type { GetHostRequest as _devcompat_v1_GetHostRequest, GetHostRequest__Output as _devcompat_v1_GetHostRequest__Output } from '../../devcompat/v1/GetHostRequest.ts';
import type { GetHostResponse as _devcompat_v1_GetHostResponse, GetHostResponse__Output as _devcompat_v1_GetHostResponse__Output } from '../../devcompat/v1/GetHostResponse.ts';
import type { KeepAliveRequest as _devcompat_v1_KeepAliveRequest, KeepAliveRequest__Output as _devcompat_v1_KeepAliveRequest__Output } from '../../devcompat/v1/KeepAliveRequest.ts';
import type { KeepAliveResponse as _devcompat_v1_KeepAliveResponse, KeepAliveResponse__Output as _devcompat_v1_KeepAliveResponse__Output } from '../../devcompat/v1/KeepAliveResponse.ts';
import type { ListDevicesRequest as _devcompat_v1_ListDevicesRequest, ListDevicesRequest__Output as _devcompat_v1_ListDevicesRequest__Output } from '../../devcompat/v1/ListDevicesRequest.ts';
import type { ListDevicesResponse as _devcompat_v1_ListDevicesResponse, ListDevicesResponse__Output as _devcompat_v1_ListDevicesResponse__Output } from '../../devcompat/v1/ListDevicesResponse.ts';
import type { ListHostsRequest as _devcompat_v1_ListHostsRequest, ListHostsRequest__Output as _devcompat_v1_ListHostsRequest__Output } from '../../devcompat/v1/ListHostsRequest.ts';
import type { ListHostsResponse as _devcompat_v1_ListHostsResponse, ListHostsResponse__Output as _devcompat_v1_ListHostsResponse__Output } from '../../devcompat/v1/ListHostsResponse.ts';
import type { SetHostDrainingRequest as _devcompat_v1_SetHostDrainingRequest, SetHostDrainingRequest__Output as _devcompat_v1_SetHostDrainingRequest__Output } from '../../devcompat/v1/SetHostDrainingRequest.ts';
import type { SetHostDrainingResponse as _devcompat_v1_SetHostDrainingResponse, SetHostDrainingResponse__Output as _devcompat_v1_SetHostDrainingResponse__Output } from '../../devcompat/v1/SetHostDrainingResponse.ts';
import type { SyncHostRequest as _devcompat_v1_SyncHostRequest, SyncHostRequest__Output as _devcompat_v1_SyncHostRequest__Output } from '../../devcompat/v1/SyncHostRequest.ts';
import type { SyncHostResponse as _devcompat_v1_SyncHostResponse, SyncHostResponse__Output as _devcompat_v1_SyncHostResponse__Output } from '../../devcompat/v1/SyncHostResponse.ts';

/**
 * RegistryService holds every host's assignable devices. Host agents write with SyncHost;
 * everyone reads with Get and List. Every write increments one registry-wide revision.
 */
export interface RegistryServiceClient extends grpc.Client {
  /**
   * DeleteHost removes a host and all its devices, recording each removal in history.
   */
  DeleteHost(argument: _devcompat_v1_DeleteHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  DeleteHost(argument: _devcompat_v1_DeleteHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  DeleteHost(argument: _devcompat_v1_DeleteHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  DeleteHost(argument: _devcompat_v1_DeleteHostRequest, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  /**
   * DeleteHost removes a host and all its devices, recording each removal in history.
   */
  deleteHost(argument: _devcompat_v1_DeleteHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  deleteHost(argument: _devcompat_v1_DeleteHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  deleteHost(argument: _devcompat_v1_DeleteHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  deleteHost(argument: _devcompat_v1_DeleteHostRequest, callback: grpc.requestCallback<_devcompat_v1_DeleteHostResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * GetDevice returns one device.
   */
  GetDevice(argument: _devcompat_v1_GetDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  GetDevice(argument: _devcompat_v1_GetDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  GetDevice(argument: _devcompat_v1_GetDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  GetDevice(argument: _devcompat_v1_GetDeviceRequest, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetDevice returns one device.
   */
  getDevice(argument: _devcompat_v1_GetDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  getDevice(argument: _devcompat_v1_GetDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  getDevice(argument: _devcompat_v1_GetDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  getDevice(argument: _devcompat_v1_GetDeviceRequest, callback: grpc.requestCallback<_devcompat_v1_GetDeviceResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * GetHost returns one host.
   */
  GetHost(argument: _devcompat_v1_GetHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  GetHost(argument: _devcompat_v1_GetHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  GetHost(argument: _devcompat_v1_GetHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  GetHost(argument: _devcompat_v1_GetHostRequest, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetHost returns one host.
   */
  getHost(argument: _devcompat_v1_GetHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  getHost(argument: _devcompat_v1_GetHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  getHost(argument: _devcompat_v1_GetHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  getHost(argument: _devcompat_v1_GetHostRequest, callback: grpc.requestCallback<_devcompat_v1_GetHostResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * KeepAlive renews host leases: each request names a host whose agent is alive, each
   * response gives the lease's new expiry. A host whose lease lapses (no keepalive and no
   * sync for the server's lease TTL, 30 s by default) becomes UNREACHABLE; its next keepalive
   * or sync makes it READY again. Keepalives are not each written to disk (docs/api.md).
   */
  KeepAlive(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveResponse__Output>;
  KeepAlive(options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveResponse__Output>;
  /**
   * KeepAlive renews host leases: each request names a host whose agent is alive, each
   * response gives the lease's new expiry. A host whose lease lapses (no keepalive and no
   * sync for the server's lease TTL, 30 s by default) becomes UNREACHABLE; its next keepalive
   * or sync makes it READY again. Keepalives are not each written to disk (docs/api.md).
   */
  keepAlive(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveResponse__Output>;
  keepAlive(options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveResponse__Output>;
  
  /**
   * ListDevices lists devices in (host id, device id) order, paginated and filtered
   * through indexes.
   */
  ListDevices(argument: _devcompat_v1_ListDevicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _devcompat_v1_ListDevicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _devcompat_v1_ListDevicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _devcompat_v1_ListDevicesRequest, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * ListDevices lists devices in (host id, device id) order, paginated and filtered
   * through indexes.
   */
  listDevices(argument: _devcompat_v1_ListDevicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _devcompat_v1_ListDevicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _devcompat_v1_ListDevicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _devcompat_v1_ListDevicesRequest, callback: grpc.requestCallback<_devcompat_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * ListHosts lists hosts in host id order, paginated, optionally filtered by labels.
   */
  ListHosts(argument: _devcompat_v1_ListHostsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  ListHosts(argument: _devcompat_v1_ListHostsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  ListHosts(argument: _devcompat_v1_ListHostsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  ListHosts(argument: _devcompat_v1_ListHostsRequest, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * ListHosts lists hosts in host id order, paginated, optionally filtered by labels.
   */
  listHosts(argument: _devcompat_v1_ListHostsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _devcompat_v1_ListHostsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _devcompat_v1_ListHostsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  listHosts(argument: _devcompat_v1_ListHostsRequest, callback: grpc.requestCallback<_devcompat_v1_ListHostsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * SetHostDraining marks a host as draining (excluded as a target, still listed) or clears
   * the mark. A sync does not clear it. The change is recorded in history and watch feeds.
   */
  SetHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  SetHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  SetHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  SetHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  /**
   * SetHostDraining marks a host as draining (excluded as a target, still listed) or clears
   * the mark. A sync does not clear it. The change is recorded in history and watch feeds.
   */
  setHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  setHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  setHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  setHostDraining(argument: _devcompat_v1_SetHostDrainingRequest, callback: grpc.requestCallback<_devcompat_v1_SetHostDrainingResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * SyncHost replaces the registry's view of one host (labels and the full set of devices)
   * atomically. Only real changes are recorded: resending the same set creates no revision.
   */
  SyncHost(argument: _devcompat_v1_SyncHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  SyncHost(argument: _devcompat_v1_SyncHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  SyncHost(argument: _devcompat_v1_SyncHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  SyncHost(argument: _devcompat_v1_SyncHostRequest, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  /**
   * SyncHost replaces the registry's view of one host (labels and the full set of devices)
   * atomically. Only real changes are recorded: resending the same set creates no revision.
   */
  syncHost(argument: _devcompat_v1_SyncHostRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  syncHost(argument: _devcompat_v1_SyncHostRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  syncHost(argument: _devcompat_v1_SyncHostRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  syncHost(argument: _devcompat_v1_SyncHostRequest, callback: grpc.requestCallback<_devcompat_v1_SyncHostResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * RegistryService holds every host's assignable devices. Host agents write with SyncHost;
 * everyone reads with Get and List. Every write increments one registry-wide revision.
 */
export interface RegistryServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * DeleteHost removes a host and all its devices, recording each removal in history.
   */
  DeleteHost: grpc.handleUnaryCall<_devcompat_v1_DeleteHostRequest__Output, _devcompat_v1_DeleteHostResponse>;
  
  /**
   * GetDevice returns one device.
   */
  GetDevice: grpc.handleUnaryCall<_devcompat_v1_GetDeviceRequest__Output, _devcompat_v1_GetDeviceResponse>;
  
  /**
   * GetHost returns one host.
   */
  GetHost: grpc.handleUnaryCall<_devcompat_v1_GetHostRequest__Output, _devcompat_v1_GetHostResponse>;
  
  /**
   * KeepAlive renews host leases: each request names a host whose agent is alive, each
   * response gives the lease's new expiry. A host whose lease lapses (no keepalive and no
   * sync for the server's lease TTL, 30 s by default) becomes UNREACHABLE; its next keepalive
   * or sync makes it READY again. Keepalives are not each written to disk (docs/api.md).
   */
  KeepAlive: grpc.handleBidiStreamingCall<_devcompat_v1_KeepAliveRequest__Output, _devcompat_v1_KeepAliveResponse>;
  
  /**
   * ListDevices lists devices in (host id, device id) order, paginated and filtered
   * through indexes.
   */
  ListDevices: grpc.handleUnaryCall<_devcompat_v1_ListDevicesRequest__Output, _devcompat_v1_ListDevicesResponse>;
  
  /**
   * ListHosts lists hosts in host id order, paginated, optionally filtered by labels.
   */
  ListHosts: grpc.handleUnaryCall<_devcompat_v1_ListHostsRequest__Output, _devcompat_v1_ListHostsResponse>;
  
  /**
   * SetHostDraining marks a host as draining (excluded as a target, still listed) or clears
   * the mark. A sync does not clear it. The change is recorded in history and watch feeds.
   */
  SetHostDraining: grpc.handleUnaryCall<_devcompat_v1_SetHostDrainingRequest__Output, _devcompat_v1_SetHostDrainingResponse>;
  
  /**
   * SyncHost replaces the registry's view of one host (labels and the full set of devices)
   * atomically. Only real changes are recorded: resending the same set creates no revision.
   */
  SyncHost: grpc.handleUnaryCall<_devcompat_v1_SyncHostRequest__Output, _devcompat_v1_SyncHostResponse>;
  
}

export interface RegistryServiceDefinition extends grpc.ServiceDefinition {
  DeleteHost: MethodDefinition<_devcompat_v1_DeleteHostRequest, _devcompat_v1_DeleteHostResponse, _devcompat_v1_DeleteHostRequest__Output, _devcompat_v1_DeleteHostResponse__Output>
  GetDevice: MethodDefinition<_devcompat_v1_GetDeviceRequest, _devcompat_v1_GetDeviceResponse, _devcompat_v1_GetDeviceRequest__Output, _devcompat_v1_GetDeviceResponse__Output>
  GetHost: MethodDefinition<_devcompat_v1_GetHostRequest, _devcompat_v1_GetHostResponse, _devcompat_v1_GetHostRequest__Output, _devcompat_v1_GetHostResponse__Output>
  KeepAlive: MethodDefinition<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveResponse, _devcompat_v1_KeepAliveRequest__Output, _devcompat_v1_KeepAliveResponse__Output>
  ListDevices: MethodDefinition<_devcompat_v1_ListDevicesRequest, _devcompat_v1_ListDevicesResponse, _devcompat_v1_ListDevicesRequest__Output, _devcompat_v1_ListDevicesResponse__Output>
  ListHosts: MethodDefinition<_devcompat_v1_ListHostsRequest, _devcompat_v1_ListHostsResponse, _devcompat_v1_ListHostsRequest__Output, _devcompat_v1_ListHostsResponse__Output>
  SetHostDraining: MethodDefinition<_devcompat_v1_SetHostDrainingRequest, _devcompat_v1_SetHostDrainingResponse, _devcompat_v1_SetHostDrainingRequest__Output, _devcompat_v1_SetHostDrainingResponse__Output>
  SyncHost: MethodDefinition<_devcompat_v1_SyncHostRequest, _devcompat_v1_SyncHostResponse, _devcompat_v1_SyncHostRequest__Output, _devcompat_v1_SyncHostResponse__Output>
}
