import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from './devcompat/v1/AttributeValue.ts';
import type { Budget as _devcompat_v1_Budget, Budget__Output as _devcompat_v1_Budget__Output } from './devcompat/v1/Budget.ts';
import type { BudgetStatus as _devcompat_v1_BudgetStatus, BudgetStatus__Output as _devcompat_v1_BudgetStatus__Output } from './devcompat/v1/BudgetStatus.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from './devcompat/v1/Capacity.ts';
import type { Check as _devcompat_v1_Check, Check__Output as _devcompat_v1_Check__Output } from './devcompat/v1/Check.ts';
import type { CheckCompatibilityRequest as _devcompat_v1_CheckCompatibilityRequest, CheckCompatibilityRequest__Output as _devcompat_v1_CheckCompatibilityRequest__Output } from './devcompat/v1/CheckCompatibilityRequest.ts';
import type { CheckCompatibilityResponse as _devcompat_v1_CheckCompatibilityResponse, CheckCompatibilityResponse__Output as _devcompat_v1_CheckCompatibilityResponse__Output } from './devcompat/v1/CheckCompatibilityResponse.ts';
import type { CheckCompatibilityStreamRequest as _devcompat_v1_CheckCompatibilityStreamRequest, CheckCompatibilityStreamRequest__Output as _devcompat_v1_CheckCompatibilityStreamRequest__Output } from './devcompat/v1/CheckCompatibilityStreamRequest.ts';
import type { CheckCompatibilityStreamResponse as _devcompat_v1_CheckCompatibilityStreamResponse, CheckCompatibilityStreamResponse__Output as _devcompat_v1_CheckCompatibilityStreamResponse__Output } from './devcompat/v1/CheckCompatibilityStreamResponse.ts';
import type { CheckItem as _devcompat_v1_CheckItem, CheckItem__Output as _devcompat_v1_CheckItem__Output } from './devcompat/v1/CheckItem.ts';
import type { CheckItemResult as _devcompat_v1_CheckItemResult, CheckItemResult__Output as _devcompat_v1_CheckItemResult__Output } from './devcompat/v1/CheckItemResult.ts';
import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from './devcompat/v1/Claim.ts';
import type { ClaimDeviceSpec as _devcompat_v1_ClaimDeviceSpec, ClaimDeviceSpec__Output as _devcompat_v1_ClaimDeviceSpec__Output } from './devcompat/v1/ClaimDeviceSpec.ts';
import type { ClaimedDevice as _devcompat_v1_ClaimedDevice, ClaimedDevice__Output as _devcompat_v1_ClaimedDevice__Output } from './devcompat/v1/ClaimedDevice.ts';
import type { CompatibilityResult as _devcompat_v1_CompatibilityResult, CompatibilityResult__Output as _devcompat_v1_CompatibilityResult__Output } from './devcompat/v1/CompatibilityResult.ts';
import type { CompatibilityServiceClient as _devcompat_v1_CompatibilityServiceClient, CompatibilityServiceDefinition as _devcompat_v1_CompatibilityServiceDefinition } from './devcompat/v1/CompatibilityService.ts';
import type { CreateClaimRequest as _devcompat_v1_CreateClaimRequest, CreateClaimRequest__Output as _devcompat_v1_CreateClaimRequest__Output } from './devcompat/v1/CreateClaimRequest.ts';
import type { CreateClaimResponse as _devcompat_v1_CreateClaimResponse, CreateClaimResponse__Output as _devcompat_v1_CreateClaimResponse__Output } from './devcompat/v1/CreateClaimResponse.ts';
import type { DeleteHostRequest as _devcompat_v1_DeleteHostRequest, DeleteHostRequest__Output as _devcompat_v1_DeleteHostRequest__Output } from './devcompat/v1/DeleteHostRequest.ts';
import type { DeleteHostResponse as _devcompat_v1_DeleteHostResponse, DeleteHostResponse__Output as _devcompat_v1_DeleteHostResponse__Output } from './devcompat/v1/DeleteHostResponse.ts';
import type { Descriptor as _devcompat_v1_Descriptor, Descriptor__Output as _devcompat_v1_Descriptor__Output } from './devcompat/v1/Descriptor.ts';
import type { Device as _devcompat_v1_Device, Device__Output as _devcompat_v1_Device__Output } from './devcompat/v1/Device.ts';
import type { DeviceFilter as _devcompat_v1_DeviceFilter, DeviceFilter__Output as _devcompat_v1_DeviceFilter__Output } from './devcompat/v1/DeviceFilter.ts';
import type { DeviceRef as _devcompat_v1_DeviceRef, DeviceRef__Output as _devcompat_v1_DeviceRef__Output } from './devcompat/v1/DeviceRef.ts';
import type { DeviceRequest as _devcompat_v1_DeviceRequest, DeviceRequest__Output as _devcompat_v1_DeviceRequest__Output } from './devcompat/v1/DeviceRequest.ts';
import type { DeviceSpec as _devcompat_v1_DeviceSpec, DeviceSpec__Output as _devcompat_v1_DeviceSpec__Output } from './devcompat/v1/DeviceSpec.ts';
import type { EngineVersion as _devcompat_v1_EngineVersion, EngineVersion__Output as _devcompat_v1_EngineVersion__Output } from './devcompat/v1/EngineVersion.ts';
import type { FindPlacementsRequest as _devcompat_v1_FindPlacementsRequest, FindPlacementsRequest__Output as _devcompat_v1_FindPlacementsRequest__Output } from './devcompat/v1/FindPlacementsRequest.ts';
import type { FindPlacementsResponse as _devcompat_v1_FindPlacementsResponse, FindPlacementsResponse__Output as _devcompat_v1_FindPlacementsResponse__Output } from './devcompat/v1/FindPlacementsResponse.ts';
import type { FindPlacementsSummary as _devcompat_v1_FindPlacementsSummary, FindPlacementsSummary__Output as _devcompat_v1_FindPlacementsSummary__Output } from './devcompat/v1/FindPlacementsSummary.ts';
import type { FindTargetsRequest as _devcompat_v1_FindTargetsRequest, FindTargetsRequest__Output as _devcompat_v1_FindTargetsRequest__Output } from './devcompat/v1/FindTargetsRequest.ts';
import type { FindTargetsResponse as _devcompat_v1_FindTargetsResponse, FindTargetsResponse__Output as _devcompat_v1_FindTargetsResponse__Output } from './devcompat/v1/FindTargetsResponse.ts';
import type { FindTargetsSummary as _devcompat_v1_FindTargetsSummary, FindTargetsSummary__Output as _devcompat_v1_FindTargetsSummary__Output } from './devcompat/v1/FindTargetsSummary.ts';
import type { FoundTarget as _devcompat_v1_FoundTarget, FoundTarget__Output as _devcompat_v1_FoundTarget__Output } from './devcompat/v1/FoundTarget.ts';
import type { GetClaimRequest as _devcompat_v1_GetClaimRequest, GetClaimRequest__Output as _devcompat_v1_GetClaimRequest__Output } from './devcompat/v1/GetClaimRequest.ts';
import type { GetClaimResponse as _devcompat_v1_GetClaimResponse, GetClaimResponse__Output as _devcompat_v1_GetClaimResponse__Output } from './devcompat/v1/GetClaimResponse.ts';
import type { GetDeviceRequest as _devcompat_v1_GetDeviceRequest, GetDeviceRequest__Output as _devcompat_v1_GetDeviceRequest__Output } from './devcompat/v1/GetDeviceRequest.ts';
import type { GetDeviceResponse as _devcompat_v1_GetDeviceResponse, GetDeviceResponse__Output as _devcompat_v1_GetDeviceResponse__Output } from './devcompat/v1/GetDeviceResponse.ts';
import type { GetHostRequest as _devcompat_v1_GetHostRequest, GetHostRequest__Output as _devcompat_v1_GetHostRequest__Output } from './devcompat/v1/GetHostRequest.ts';
import type { GetHostResponse as _devcompat_v1_GetHostResponse, GetHostResponse__Output as _devcompat_v1_GetHostResponse__Output } from './devcompat/v1/GetHostResponse.ts';
import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from './devcompat/v1/Host.ts';
import type { KeepAliveRequest as _devcompat_v1_KeepAliveRequest, KeepAliveRequest__Output as _devcompat_v1_KeepAliveRequest__Output } from './devcompat/v1/KeepAliveRequest.ts';
import type { KeepAliveResponse as _devcompat_v1_KeepAliveResponse, KeepAliveResponse__Output as _devcompat_v1_KeepAliveResponse__Output } from './devcompat/v1/KeepAliveResponse.ts';
import type { ListClaimsRequest as _devcompat_v1_ListClaimsRequest, ListClaimsRequest__Output as _devcompat_v1_ListClaimsRequest__Output } from './devcompat/v1/ListClaimsRequest.ts';
import type { ListClaimsResponse as _devcompat_v1_ListClaimsResponse, ListClaimsResponse__Output as _devcompat_v1_ListClaimsResponse__Output } from './devcompat/v1/ListClaimsResponse.ts';
import type { ListDevicesRequest as _devcompat_v1_ListDevicesRequest, ListDevicesRequest__Output as _devcompat_v1_ListDevicesRequest__Output } from './devcompat/v1/ListDevicesRequest.ts';
import type { ListDevicesResponse as _devcompat_v1_ListDevicesResponse, ListDevicesResponse__Output as _devcompat_v1_ListDevicesResponse__Output } from './devcompat/v1/ListDevicesResponse.ts';
import type { ListHostsRequest as _devcompat_v1_ListHostsRequest, ListHostsRequest__Output as _devcompat_v1_ListHostsRequest__Output } from './devcompat/v1/ListHostsRequest.ts';
import type { ListHostsResponse as _devcompat_v1_ListHostsResponse, ListHostsResponse__Output as _devcompat_v1_ListHostsResponse__Output } from './devcompat/v1/ListHostsResponse.ts';
import type { MissingDevice as _devcompat_v1_MissingDevice, MissingDevice__Output as _devcompat_v1_MissingDevice__Output } from './devcompat/v1/MissingDevice.ts';
import type { PartialPlacement as _devcompat_v1_PartialPlacement, PartialPlacement__Output as _devcompat_v1_PartialPlacement__Output } from './devcompat/v1/PartialPlacement.ts';
import type { Placement as _devcompat_v1_Placement, Placement__Output as _devcompat_v1_Placement__Output } from './devcompat/v1/Placement.ts';
import type { PlacementKey as _devcompat_v1_PlacementKey, PlacementKey__Output as _devcompat_v1_PlacementKey__Output } from './devcompat/v1/PlacementKey.ts';
import type { PlacementPair as _devcompat_v1_PlacementPair, PlacementPair__Output as _devcompat_v1_PlacementPair__Output } from './devcompat/v1/PlacementPair.ts';
import type { PlacementServiceClient as _devcompat_v1_PlacementServiceClient, PlacementServiceDefinition as _devcompat_v1_PlacementServiceDefinition } from './devcompat/v1/PlacementService.ts';
import type { RegistryServiceClient as _devcompat_v1_RegistryServiceClient, RegistryServiceDefinition as _devcompat_v1_RegistryServiceDefinition } from './devcompat/v1/RegistryService.ts';
import type { ReleaseClaimRequest as _devcompat_v1_ReleaseClaimRequest, ReleaseClaimRequest__Output as _devcompat_v1_ReleaseClaimRequest__Output } from './devcompat/v1/ReleaseClaimRequest.ts';
import type { ReleaseClaimResponse as _devcompat_v1_ReleaseClaimResponse, ReleaseClaimResponse__Output as _devcompat_v1_ReleaseClaimResponse__Output } from './devcompat/v1/ReleaseClaimResponse.ts';
import type { RenewClaimRequest as _devcompat_v1_RenewClaimRequest, RenewClaimRequest__Output as _devcompat_v1_RenewClaimRequest__Output } from './devcompat/v1/RenewClaimRequest.ts';
import type { RenewClaimResponse as _devcompat_v1_RenewClaimResponse, RenewClaimResponse__Output as _devcompat_v1_RenewClaimResponse__Output } from './devcompat/v1/RenewClaimResponse.ts';
import type { Rule as _devcompat_v1_Rule, Rule__Output as _devcompat_v1_Rule__Output } from './devcompat/v1/Rule.ts';
import type { SetHostDrainingRequest as _devcompat_v1_SetHostDrainingRequest, SetHostDrainingRequest__Output as _devcompat_v1_SetHostDrainingRequest__Output } from './devcompat/v1/SetHostDrainingRequest.ts';
import type { SetHostDrainingResponse as _devcompat_v1_SetHostDrainingResponse, SetHostDrainingResponse__Output as _devcompat_v1_SetHostDrainingResponse__Output } from './devcompat/v1/SetHostDrainingResponse.ts';
import type { SetValue as _devcompat_v1_SetValue, SetValue__Output as _devcompat_v1_SetValue__Output } from './devcompat/v1/SetValue.ts';
import type { SyncHostRequest as _devcompat_v1_SyncHostRequest, SyncHostRequest__Output as _devcompat_v1_SyncHostRequest__Output } from './devcompat/v1/SyncHostRequest.ts';
import type { SyncHostResponse as _devcompat_v1_SyncHostResponse, SyncHostResponse__Output as _devcompat_v1_SyncHostResponse__Output } from './devcompat/v1/SyncHostResponse.ts';
import type { TargetChange as _devcompat_v1_TargetChange, TargetChange__Output as _devcompat_v1_TargetChange__Output } from './devcompat/v1/TargetChange.ts';
import type { WatchTargetsRequest as _devcompat_v1_WatchTargetsRequest, WatchTargetsRequest__Output as _devcompat_v1_WatchTargetsRequest__Output } from './devcompat/v1/WatchTargetsRequest.ts';
import type { WatchTargetsResponse as _devcompat_v1_WatchTargetsResponse, WatchTargetsResponse__Output as _devcompat_v1_WatchTargetsResponse__Output } from './devcompat/v1/WatchTargetsResponse.ts';
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
      Check: MessageTypeDefinition<_devcompat_v1_Check, _devcompat_v1_Check__Output>
      CheckCompatibilityRequest: MessageTypeDefinition<_devcompat_v1_CheckCompatibilityRequest, _devcompat_v1_CheckCompatibilityRequest__Output>
      CheckCompatibilityResponse: MessageTypeDefinition<_devcompat_v1_CheckCompatibilityResponse, _devcompat_v1_CheckCompatibilityResponse__Output>
      CheckCompatibilityStreamRequest: MessageTypeDefinition<_devcompat_v1_CheckCompatibilityStreamRequest, _devcompat_v1_CheckCompatibilityStreamRequest__Output>
      CheckCompatibilityStreamResponse: MessageTypeDefinition<_devcompat_v1_CheckCompatibilityStreamResponse, _devcompat_v1_CheckCompatibilityStreamResponse__Output>
      CheckItem: MessageTypeDefinition<_devcompat_v1_CheckItem, _devcompat_v1_CheckItem__Output>
      CheckItemResult: MessageTypeDefinition<_devcompat_v1_CheckItemResult, _devcompat_v1_CheckItemResult__Output>
      CheckResult: EnumTypeDefinition
      Claim: MessageTypeDefinition<_devcompat_v1_Claim, _devcompat_v1_Claim__Output>
      ClaimDeviceSpec: MessageTypeDefinition<_devcompat_v1_ClaimDeviceSpec, _devcompat_v1_ClaimDeviceSpec__Output>
      ClaimState: EnumTypeDefinition
      ClaimedDevice: MessageTypeDefinition<_devcompat_v1_ClaimedDevice, _devcompat_v1_ClaimedDevice__Output>
      CompareOp: EnumTypeDefinition
      CompatibilityResult: MessageTypeDefinition<_devcompat_v1_CompatibilityResult, _devcompat_v1_CompatibilityResult__Output>
      /**
       * CompatibilityService answers "may a VM using this device be live-migrated onto that
       * one?" with directional, explained verdicts (docs/model.md).
       */
      CompatibilityService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_CompatibilityServiceClient> & { service: _devcompat_v1_CompatibilityServiceDefinition }
      CreateClaimRequest: MessageTypeDefinition<_devcompat_v1_CreateClaimRequest, _devcompat_v1_CreateClaimRequest__Output>
      CreateClaimResponse: MessageTypeDefinition<_devcompat_v1_CreateClaimResponse, _devcompat_v1_CreateClaimResponse__Output>
      DeleteHostRequest: MessageTypeDefinition<_devcompat_v1_DeleteHostRequest, _devcompat_v1_DeleteHostRequest__Output>
      DeleteHostResponse: MessageTypeDefinition<_devcompat_v1_DeleteHostResponse, _devcompat_v1_DeleteHostResponse__Output>
      Descriptor: MessageTypeDefinition<_devcompat_v1_Descriptor, _devcompat_v1_Descriptor__Output>
      Device: MessageTypeDefinition<_devcompat_v1_Device, _devcompat_v1_Device__Output>
      DeviceFilter: MessageTypeDefinition<_devcompat_v1_DeviceFilter, _devcompat_v1_DeviceFilter__Output>
      DeviceRef: MessageTypeDefinition<_devcompat_v1_DeviceRef, _devcompat_v1_DeviceRef__Output>
      DeviceRequest: MessageTypeDefinition<_devcompat_v1_DeviceRequest, _devcompat_v1_DeviceRequest__Output>
      DeviceSpec: MessageTypeDefinition<_devcompat_v1_DeviceSpec, _devcompat_v1_DeviceSpec__Output>
      EngineVersion: MessageTypeDefinition<_devcompat_v1_EngineVersion, _devcompat_v1_EngineVersion__Output>
      FindPlacementsRequest: MessageTypeDefinition<_devcompat_v1_FindPlacementsRequest, _devcompat_v1_FindPlacementsRequest__Output>
      FindPlacementsResponse: MessageTypeDefinition<_devcompat_v1_FindPlacementsResponse, _devcompat_v1_FindPlacementsResponse__Output>
      FindPlacementsSummary: MessageTypeDefinition<_devcompat_v1_FindPlacementsSummary, _devcompat_v1_FindPlacementsSummary__Output>
      FindTargetsRequest: MessageTypeDefinition<_devcompat_v1_FindTargetsRequest, _devcompat_v1_FindTargetsRequest__Output>
      FindTargetsResponse: MessageTypeDefinition<_devcompat_v1_FindTargetsResponse, _devcompat_v1_FindTargetsResponse__Output>
      FindTargetsSummary: MessageTypeDefinition<_devcompat_v1_FindTargetsSummary, _devcompat_v1_FindTargetsSummary__Output>
      FoundTarget: MessageTypeDefinition<_devcompat_v1_FoundTarget, _devcompat_v1_FoundTarget__Output>
      GetClaimRequest: MessageTypeDefinition<_devcompat_v1_GetClaimRequest, _devcompat_v1_GetClaimRequest__Output>
      GetClaimResponse: MessageTypeDefinition<_devcompat_v1_GetClaimResponse, _devcompat_v1_GetClaimResponse__Output>
      GetDeviceRequest: MessageTypeDefinition<_devcompat_v1_GetDeviceRequest, _devcompat_v1_GetDeviceRequest__Output>
      GetDeviceResponse: MessageTypeDefinition<_devcompat_v1_GetDeviceResponse, _devcompat_v1_GetDeviceResponse__Output>
      GetHostRequest: MessageTypeDefinition<_devcompat_v1_GetHostRequest, _devcompat_v1_GetHostRequest__Output>
      GetHostResponse: MessageTypeDefinition<_devcompat_v1_GetHostResponse, _devcompat_v1_GetHostResponse__Output>
      Host: MessageTypeDefinition<_devcompat_v1_Host, _devcompat_v1_Host__Output>
      HostState: EnumTypeDefinition
      KeepAliveRequest: MessageTypeDefinition<_devcompat_v1_KeepAliveRequest, _devcompat_v1_KeepAliveRequest__Output>
      KeepAliveResponse: MessageTypeDefinition<_devcompat_v1_KeepAliveResponse, _devcompat_v1_KeepAliveResponse__Output>
      ListClaimsRequest: MessageTypeDefinition<_devcompat_v1_ListClaimsRequest, _devcompat_v1_ListClaimsRequest__Output>
      ListClaimsResponse: MessageTypeDefinition<_devcompat_v1_ListClaimsResponse, _devcompat_v1_ListClaimsResponse__Output>
      ListDevicesRequest: MessageTypeDefinition<_devcompat_v1_ListDevicesRequest, _devcompat_v1_ListDevicesRequest__Output>
      ListDevicesResponse: MessageTypeDefinition<_devcompat_v1_ListDevicesResponse, _devcompat_v1_ListDevicesResponse__Output>
      ListHostsRequest: MessageTypeDefinition<_devcompat_v1_ListHostsRequest, _devcompat_v1_ListHostsRequest__Output>
      ListHostsResponse: MessageTypeDefinition<_devcompat_v1_ListHostsResponse, _devcompat_v1_ListHostsResponse__Output>
      MissingDevice: MessageTypeDefinition<_devcompat_v1_MissingDevice, _devcompat_v1_MissingDevice__Output>
      PartialPlacement: MessageTypeDefinition<_devcompat_v1_PartialPlacement, _devcompat_v1_PartialPlacement__Output>
      Placement: MessageTypeDefinition<_devcompat_v1_Placement, _devcompat_v1_Placement__Output>
      PlacementKey: MessageTypeDefinition<_devcompat_v1_PlacementKey, _devcompat_v1_PlacementKey__Output>
      PlacementMissingReason: EnumTypeDefinition
      PlacementPair: MessageTypeDefinition<_devcompat_v1_PlacementPair, _devcompat_v1_PlacementPair__Output>
      /**
       * PlacementService places whole VMs and reserves the capacity a migration needs
       * (docs/model.md, "Placing a VM" and "Claims"). A VM with two vGPUs and a VF is placed in one
       * call, onto one host, with one concrete assignment; a claim then holds the chosen units so
       * that no other scheduler takes them while the migration runs.
       */
      PlacementService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_PlacementServiceClient> & { service: _devcompat_v1_PlacementServiceDefinition }
      /**
       * RegistryService holds every host's assignable devices. Host agents write with SyncHost;
       * everyone reads with Get and List. Every write increments one registry-wide revision.
       */
      RegistryService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_RegistryServiceClient> & { service: _devcompat_v1_RegistryServiceDefinition }
      ReleaseClaimRequest: MessageTypeDefinition<_devcompat_v1_ReleaseClaimRequest, _devcompat_v1_ReleaseClaimRequest__Output>
      ReleaseClaimResponse: MessageTypeDefinition<_devcompat_v1_ReleaseClaimResponse, _devcompat_v1_ReleaseClaimResponse__Output>
      RenewClaimRequest: MessageTypeDefinition<_devcompat_v1_RenewClaimRequest, _devcompat_v1_RenewClaimRequest__Output>
      RenewClaimResponse: MessageTypeDefinition<_devcompat_v1_RenewClaimResponse, _devcompat_v1_RenewClaimResponse__Output>
      Rule: MessageTypeDefinition<_devcompat_v1_Rule, _devcompat_v1_Rule__Output>
      SetHostDrainingRequest: MessageTypeDefinition<_devcompat_v1_SetHostDrainingRequest, _devcompat_v1_SetHostDrainingRequest__Output>
      SetHostDrainingResponse: MessageTypeDefinition<_devcompat_v1_SetHostDrainingResponse, _devcompat_v1_SetHostDrainingResponse__Output>
      SetValue: MessageTypeDefinition<_devcompat_v1_SetValue, _devcompat_v1_SetValue__Output>
      SyncHostRequest: MessageTypeDefinition<_devcompat_v1_SyncHostRequest, _devcompat_v1_SyncHostRequest__Output>
      SyncHostResponse: MessageTypeDefinition<_devcompat_v1_SyncHostResponse, _devcompat_v1_SyncHostResponse__Output>
      TargetChange: MessageTypeDefinition<_devcompat_v1_TargetChange, _devcompat_v1_TargetChange__Output>
      TargetChangeKind: EnumTypeDefinition
      Verdict: EnumTypeDefinition
      WatchTargetsRequest: MessageTypeDefinition<_devcompat_v1_WatchTargetsRequest, _devcompat_v1_WatchTargetsRequest__Output>
      WatchTargetsResponse: MessageTypeDefinition<_devcompat_v1_WatchTargetsResponse, _devcompat_v1_WatchTargetsResponse__Output>
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

