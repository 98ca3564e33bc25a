import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from './devcompat/v1/AttributeValue.ts';
import type { Budget as _devcompat_v1_Budget, Budget__Output as _devcompat_v1_Budget__Output } from './devcompat/v1/Budget.ts';
import type { BudgetStatus as _devcompat_v1_BudgetStatus, BudgetStatus__Output as _devcompat_v1_BudgetStatus__Output } from './devcompat/v1/BudgetStatus.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from './devcompat/v1/Capacity.ts';
import type { CompactHistoryRequest as _devcompat_v1_CompactHistoryRequest, CompactHistoryRequest__Output as _devcompat_v1_CompactHistoryRequest__Output } from './devcompat/v1/CompactHistoryRequest.ts';
import type { CompactHistoryResponse as _devcompat_v1_CompactHistoryResponse, CompactHistoryResponse__Output as _devcompat_v1_CompactHistoryResponse__Output } from './devcompat/v1/CompactHistoryResponse.ts';
import type { Compaction as _devcompat_v1_Compaction, Compaction__Output as _devcompat_v1_Compaction__Output } from './devcompat/v1/Compaction.ts';
import type { DeleteHostRequest as _devcompat_v1_DeleteHostRequest, DeleteHostRequest__Output as _devcompat_v1_DeleteHostRequest__Output } from './devcompat/v1/DeleteHostRequest.ts';
import type { DeleteHostResponse as _devcompat_v1_DeleteHostResponse, DeleteHostResponse__Output as _devcompat_v1_DeleteHostResponse__Output } from './devcompat/v1/DeleteHostResponse.ts';
import type { Descriptor as _devcompat_v1_Descriptor, Descriptor__Output as _devcompat_v1_Descriptor__Output } from './devcompat/v1/Descriptor.ts';
import type { Device as _devcompat_v1_Device, Device__Output as _devcompat_v1_Device__Output } from './devcompat/v1/Device.ts';
import type { DeviceFilter as _devcompat_v1_DeviceFilter, DeviceFilter__Output as _devcompat_v1_DeviceFilter__Output } from './devcompat/v1/DeviceFilter.ts';
import type { DeviceSpec as _devcompat_v1_DeviceSpec, DeviceSpec__Output as _devcompat_v1_DeviceSpec__Output } from './devcompat/v1/DeviceSpec.ts';
import type { GetDeviceRequest as _devcompat_v1_GetDeviceRequest, GetDeviceRequest__Output as _devcompat_v1_GetDeviceRequest__Output } from './devcompat/v1/GetDeviceRequest.ts';
import type { GetDeviceResponse as _devcompat_v1_GetDeviceResponse, GetDeviceResponse__Output as _devcompat_v1_GetDeviceResponse__Output } from './devcompat/v1/GetDeviceResponse.ts';
import type { GetHostRequest as _devcompat_v1_GetHostRequest, GetHostRequest__Output as _devcompat_v1_GetHostRequest__Output } from './devcompat/v1/GetHostRequest.ts';
import type { GetHostResponse as _devcompat_v1_GetHostResponse, GetHostResponse__Output as _devcompat_v1_GetHostResponse__Output } from './devcompat/v1/GetHostResponse.ts';
import type { HistoryEntry as _devcompat_v1_HistoryEntry, HistoryEntry__Output as _devcompat_v1_HistoryEntry__Output } from './devcompat/v1/HistoryEntry.ts';
import type { HistoryServiceClient as _devcompat_v1_HistoryServiceClient, HistoryServiceDefinition as _devcompat_v1_HistoryServiceDefinition } from './devcompat/v1/HistoryService.ts';
import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from './devcompat/v1/Host.ts';
import type { KeepAliveRequest as _devcompat_v1_KeepAliveRequest, KeepAliveRequest__Output as _devcompat_v1_KeepAliveRequest__Output } from './devcompat/v1/KeepAliveRequest.ts';
import type { KeepAliveResponse as _devcompat_v1_KeepAliveResponse, KeepAliveResponse__Output as _devcompat_v1_KeepAliveResponse__Output } from './devcompat/v1/KeepAliveResponse.ts';
import type { ListDevicesRequest as _devcompat_v1_ListDevicesRequest, ListDevicesRequest__Output as _devcompat_v1_ListDevicesRequest__Output } from './devcompat/v1/ListDevicesRequest.ts';
import type { ListDevicesResponse as _devcompat_v1_ListDevicesResponse, ListDevicesResponse__Output as _devcompat_v1_ListDevicesResponse__Output } from './devcompat/v1/ListDevicesResponse.ts';
import type { ListHistoryRequest as _devcompat_v1_ListHistoryRequest, ListHistoryRequest__Output as _devcompat_v1_ListHistoryRequest__Output } from './devcompat/v1/ListHistoryRequest.ts';
import type { ListHistoryResponse as _devcompat_v1_ListHistoryResponse, ListHistoryResponse__Output as _devcompat_v1_ListHistoryResponse__Output } from './devcompat/v1/ListHistoryResponse.ts';
import type { ListHostsRequest as _devcompat_v1_ListHostsRequest, ListHostsRequest__Output as _devcompat_v1_ListHostsRequest__Output } from './devcompat/v1/ListHostsRequest.ts';
import type { ListHostsResponse as _devcompat_v1_ListHostsResponse, ListHostsResponse__Output as _devcompat_v1_ListHostsResponse__Output } from './devcompat/v1/ListHostsResponse.ts';
import type { RegistryServiceClient as _devcompat_v1_RegistryServiceClient, RegistryServiceDefinition as _devcompat_v1_RegistryServiceDefinition } from './devcompat/v1/RegistryService.ts';
import type { ResourceState as _devcompat_v1_ResourceState, ResourceState__Output as _devcompat_v1_ResourceState__Output } from './devcompat/v1/ResourceState.ts';
import type { Rule as _devcompat_v1_Rule, Rule__Output as _devcompat_v1_Rule__Output } from './devcompat/v1/Rule.ts';
import type { SetHostDrainingRequest as _devcompat_v1_SetHostDrainingRequest, SetHostDrainingRequest__Output as _devcompat_v1_SetHostDrainingRequest__Output } from './devcompat/v1/SetHostDrainingRequest.ts';
import type { SetHostDrainingResponse as _devcompat_v1_SetHostDrainingResponse, SetHostDrainingResponse__Output as _devcompat_v1_SetHostDrainingResponse__Output } from './devcompat/v1/SetHostDrainingResponse.ts';
import type { SetValue as _devcompat_v1_SetValue, SetValue__Output as _devcompat_v1_SetValue__Output } from './devcompat/v1/SetValue.ts';
import type { SyncHostRequest as _devcompat_v1_SyncHostRequest, SyncHostRequest__Output as _devcompat_v1_SyncHostRequest__Output } from './devcompat/v1/SyncHostRequest.ts';
import type { SyncHostResponse as _devcompat_v1_SyncHostResponse, SyncHostResponse__Output as _devcompat_v1_SyncHostResponse__Output } from './devcompat/v1/SyncHostResponse.ts';
import type { VerifyHistoryRequest as _devcompat_v1_VerifyHistoryRequest, VerifyHistoryRequest__Output as _devcompat_v1_VerifyHistoryRequest__Output } from './devcompat/v1/VerifyHistoryRequest.ts';
import type { VerifyHistoryResponse as _devcompat_v1_VerifyHistoryResponse, VerifyHistoryResponse__Output as _devcompat_v1_VerifyHistoryResponse__Output } from './devcompat/v1/VerifyHistoryResponse.ts';
import type { WatchEvent as _devcompat_v1_WatchEvent, WatchEvent__Output as _devcompat_v1_WatchEvent__Output } from './devcompat/v1/WatchEvent.ts';
import type { WatchFilter as _devcompat_v1_WatchFilter, WatchFilter__Output as _devcompat_v1_WatchFilter__Output } from './devcompat/v1/WatchFilter.ts';
import type { WatchRequest as _devcompat_v1_WatchRequest, WatchRequest__Output as _devcompat_v1_WatchRequest__Output } from './devcompat/v1/WatchRequest.ts';
import type { WatchResponse as _devcompat_v1_WatchResponse, WatchResponse__Output as _devcompat_v1_WatchResponse__Output } from './devcompat/v1/WatchResponse.ts';
import type { WatchServiceClient as _devcompat_v1_WatchServiceClient, WatchServiceDefinition as _devcompat_v1_WatchServiceDefinition } from './devcompat/v1/WatchService.ts';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.ts';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from './google/rpc/Status.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  devcompat: {
    v1: {
      AttributeValue: MessageTypeDefinition<_devcompat_v1_AttributeValue, _devcompat_v1_AttributeValue__Output>
      Budget: MessageTypeDefinition<_devcompat_v1_Budget, _devcompat_v1_Budget__Output>
      BudgetStatus: MessageTypeDefinition<_devcompat_v1_BudgetStatus, _devcompat_v1_BudgetStatus__Output>
      Capacity: MessageTypeDefinition<_devcompat_v1_Capacity, _devcompat_v1_Capacity__Output>
      ChainProblem: EnumTypeDefinition
      ChangeKind: EnumTypeDefinition
      CompactHistoryRequest: MessageTypeDefinition<_devcompat_v1_CompactHistoryRequest, _devcompat_v1_CompactHistoryRequest__Output>
      CompactHistoryResponse: MessageTypeDefinition<_devcompat_v1_CompactHistoryResponse, _devcompat_v1_CompactHistoryResponse__Output>
      Compaction: MessageTypeDefinition<_devcompat_v1_Compaction, _devcompat_v1_Compaction__Output>
      CompareOp: EnumTypeDefinition
      DeleteHostRequest: MessageTypeDefinition<_devcompat_v1_DeleteHostRequest, _devcompat_v1_DeleteHostRequest__Output>
      DeleteHostResponse: MessageTypeDefinition<_devcompat_v1_DeleteHostResponse, _devcompat_v1_DeleteHostResponse__Output>
      Descriptor: MessageTypeDefinition<_devcompat_v1_Descriptor, _devcompat_v1_Descriptor__Output>
      Device: MessageTypeDefinition<_devcompat_v1_Device, _devcompat_v1_Device__Output>
      DeviceFilter: MessageTypeDefinition<_devcompat_v1_DeviceFilter, _devcompat_v1_DeviceFilter__Output>
      DeviceSpec: MessageTypeDefinition<_devcompat_v1_DeviceSpec, _devcompat_v1_DeviceSpec__Output>
      GetDeviceRequest: MessageTypeDefinition<_devcompat_v1_GetDeviceRequest, _devcompat_v1_GetDeviceRequest__Output>
      GetDeviceResponse: MessageTypeDefinition<_devcompat_v1_GetDeviceResponse, _devcompat_v1_GetDeviceResponse__Output>
      GetHostRequest: MessageTypeDefinition<_devcompat_v1_GetHostRequest, _devcompat_v1_GetHostRequest__Output>
      GetHostResponse: MessageTypeDefinition<_devcompat_v1_GetHostResponse, _devcompat_v1_GetHostResponse__Output>
      HistoryEntry: MessageTypeDefinition<_devcompat_v1_HistoryEntry, _devcompat_v1_HistoryEntry__Output>
      HistoryOrder: EnumTypeDefinition
      /**
       * HistoryService reads the registry's history: every change, when, by whom, at which revision.
       */
      HistoryService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_HistoryServiceClient> & { service: _devcompat_v1_HistoryServiceDefinition }
      Host: MessageTypeDefinition<_devcompat_v1_Host, _devcompat_v1_Host__Output>
      HostState: EnumTypeDefinition
      KeepAliveRequest: MessageTypeDefinition<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveRequest__Output>
      KeepAliveResponse: MessageTypeDefinition<_devcompat_v1_KeepAliveResponse, _devcompat_v1_KeepAliveResponse__Output>
      ListDevicesRequest: MessageTypeDefinition<_devcompat_v1_ListDevicesRequest, _devcompat_v1_ListDevicesRequest__Output>
      ListDevicesResponse: MessageTypeDefinition<_devcompat_v1_ListDevicesResponse, _devcompat_v1_ListDevicesResponse__Output>
      ListHistoryRequest: MessageTypeDefinition<_devcompat_v1_ListHistoryRequest, _devcompat_v1_ListHistoryRequest__Output>
      ListHistoryResponse: MessageTypeDefinition<_devcompat_v1_ListHistoryResponse, _devcompat_v1_ListHistoryResponse__Output>
      ListHostsRequest: MessageTypeDefinition<_devcompat_v1_ListHostsRequest, _devcompat_v1_ListHostsRequest__Output>
      ListHostsResponse: MessageTypeDefinition<_devcompat_v1_ListHostsResponse, _devcompat_v1_ListHostsResponse__Output>
      /**
       * RegistryService holds every host's assignable devices. Host agents write with SyncHost;
       * everyone reads with Get and List. Every write increments one registry-wide revision.
       */
      RegistryService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_RegistryServiceClient> & { service: _devcompat_v1_RegistryServiceDefinition }
      ResourceState: MessageTypeDefinition<_devcompat_v1_ResourceState, _devcompat_v1_ResourceState__Output>
      Rule: MessageTypeDefinition<_devcompat_v1_Rule, _devcompat_v1_Rule__Output>
      SetHostDrainingRequest: MessageTypeDefinition<_devcompat_v1_SetHostDrainingRequest, _devcompat_v1_SetHostDrainingRequest__Output>
      SetHostDrainingResponse: MessageTypeDefinition<_devcompat_v1_SetHostDrainingResponse, _devcompat_v1_SetHostDrainingResponse__Output>
      SetValue: MessageTypeDefinition<_devcompat_v1_SetValue, _devcompat_v1_SetValue__Output>
      SyncHostRequest: MessageTypeDefinition<_devcompat_v1_SyncHostRequest, _devcompat_v1_SyncHostRequest__Output>
      SyncHostResponse: MessageTypeDefinition<_devcompat_v1_SyncHostResponse, _devcompat_v1_SyncHostResponse__Output>
      VerifyHistoryRequest: MessageTypeDefinition<_devcompat_v1_VerifyHistoryRequest, _devcompat_v1_VerifyHistoryRequest__Output>
      VerifyHistoryResponse: MessageTypeDefinition<_devcompat_v1_VerifyHistoryResponse, _devcompat_v1_VerifyHistoryResponse__Output>
      WatchEvent: MessageTypeDefinition<_devcompat_v1_WatchEvent, _devcompat_v1_WatchEvent__Output>
      WatchFilter: MessageTypeDefinition<_devcompat_v1_WatchFilter, _devcompat_v1_WatchFilter__Output>
      WatchRequest: MessageTypeDefinition<_devcompat_v1_WatchRequest, _devcompat_v1_WatchRequest__Output>
      WatchResponse: MessageTypeDefinition<_devcompat_v1_WatchResponse, _devcompat_v1_WatchResponse__Output>
      /**
       * WatchService is the registry's change feed: every change, exactly once, in revision order.
       */
      WatchService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_WatchServiceClient> & { service: _devcompat_v1_WatchServiceDefinition }
    }
  }
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
    rpc: {
      Status: MessageTypeDefinition<_google_rpc_Status, _google_rpc_Status__Output>
    }
  }
}

