// Original file: proto/devcompat/v1/placement.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateClaimRequest as _devcompat_v1_CreateClaimRequest, CreateClaimRequest__Output as _devcompat_v1_CreateClaimRequest__Output } from '../../devcompat/v1/CreateClaimRequest.ts';
import type { CreateClaimResponse as _devcompat_v1_CreateClaimResponse, CreateClaimResponse__Output as _devcompat_v1_CreateClaimResponse__Output } from '../../devcompat/v1/CreateClaimResponse.ts';
import type { FindPlacementsRequest as _devcompat_v1_FindPlacementsRequest, FindPlacementsRequest__Output as _devcompat_v1_FindPlacementsRequest__Output } from '../../devcompat/v1/FindPlacementsRequest.ts';
import type { FindPlacementsResponse as _devcompat_v1_FindPlacementsResponse, FindPlacementsResponse__Output as _devcompat_v1_FindPlacementsResponse__Output } from '../../devcompat/v1/FindPlacementsResponse.ts';
import type { GetClaimRequest as _devcompat_v1_GetClaimRequest, GetClaimRequest__Output as _devcompat_v1_GetClaimRequest__Output } from '../../devcompat/v1/GetClaimRequest.ts';
import type { GetClaimResponse as _devcompat_v1_GetClaimResponse, GetClaimResponse__Output as _devcompat_v1_GetClaimResponse__Output } from '../../devcompat/v1/GetClaimResponse.ts';
import type { ListClaimsRequest as _devcompat_v1_ListClaimsRequest, ListClaimsRequest__Output as _devcompat_v1_ListClaimsRequest__Output } from '../../devcompat/v1/ListClaimsRequest.ts';
import type { ListClaimsResponse as _devcompat_v1_ListClaimsResponse, ListClaimsResponse__Output as _devcompat_v1_ListClaimsResponse__Output } from '../../devcompat/v1/ListClaimsResponse.ts';
import type { ReleaseClaimRequest as _devcompat_v1_ReleaseClaimRequest, ReleaseClaimRequest__Output as _devcompat_v1_ReleaseClaimRequest__Output } from '../../devcompat/v1/ReleaseClaimRequest.ts';
import type { ReleaseClaimResponse as _devcompat_v1_ReleaseClaimResponse, ReleaseClaimResponse__Output as _devcompat_v1_ReleaseClaimResponse__Output } from '../../devcompat/v1/ReleaseClaimResponse.ts';
import type { RenewClaimRequest as _devcompat_v1_RenewClaimRequest, RenewClaimRequest__Output as _devcompat_v1_RenewClaimRequest__Output } from '../../devcompat/v1/RenewClaimRequest.ts';
import type { RenewClaimResponse as _devcompat_v1_RenewClaimResponse, RenewClaimResponse__Output as _devcompat_v1_RenewClaimResponse__Output } from '../../devcompat/v1/RenewClaimResponse.ts';

/**
 * PlacementService places whole VMs and reserves the capacity a migration needs
 * (docs/model.md, "Placing a VM" and "Claims"). A VM with two vGPUs and a VF is placed in one
 * call, onto one host, with one concrete assignment; a claim then holds the chosen units so
 * that no other scheduler takes them while the migration runs.
 */
export interface PlacementServiceClient extends grpc.Client {
  /**
   * CreateClaim reserves units of named devices of one host for one migration: all of them
   * or none, owned by the caller (Claim.owner). Retrying with the same claim_id and the same
   * body returns the same claim; the same claim_id with another body, or held by another
   * owner, fails with ALREADY_EXISTS; a device without enough free
   * units fails with ABORTED, reason CAPACITY_EXHAUSTED, naming the device; so does a host
   * that already holds 256 live claims (metadata host, live_claims, limit). Any placement
   * FindPlacements returns fits one claim.
   */
  CreateClaim(argument: _devcompat_v1_CreateClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  CreateClaim(argument: _devcompat_v1_CreateClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  CreateClaim(argument: _devcompat_v1_CreateClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  CreateClaim(argument: _devcompat_v1_CreateClaimRequest, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  /**
   * CreateClaim reserves units of named devices of one host for one migration: all of them
   * or none, owned by the caller (Claim.owner). Retrying with the same claim_id and the same
   * body returns the same claim; the same claim_id with another body, or held by another
   * owner, fails with ALREADY_EXISTS; a device without enough free
   * units fails with ABORTED, reason CAPACITY_EXHAUSTED, naming the device; so does a host
   * that already holds 256 live claims (metadata host, live_claims, limit). Any placement
   * FindPlacements returns fits one claim.
   */
  createClaim(argument: _devcompat_v1_CreateClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  createClaim(argument: _devcompat_v1_CreateClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  createClaim(argument: _devcompat_v1_CreateClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  createClaim(argument: _devcompat_v1_CreateClaimRequest, callback: grpc.requestCallback<_devcompat_v1_CreateClaimResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * FindPlacements streams the hosts that can take every device of a VM at once, best first,
   * each with the assignment that ranks best on it; then, when asked, the hosts that could
   * take some but not all devices, with what is missing; then one summary.
   */
  FindPlacements(argument: _devcompat_v1_FindPlacementsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindPlacementsResponse__Output>;
  FindPlacements(argument: _devcompat_v1_FindPlacementsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindPlacementsResponse__Output>;
  /**
   * FindPlacements streams the hosts that can take every device of a VM at once, best first,
   * each with the assignment that ranks best on it; then, when asked, the hosts that could
   * take some but not all devices, with what is missing; then one summary.
   */
  findPlacements(argument: _devcompat_v1_FindPlacementsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindPlacementsResponse__Output>;
  findPlacements(argument: _devcompat_v1_FindPlacementsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindPlacementsResponse__Output>;
  
  /**
   * GetClaim returns one live claim.
   */
  GetClaim(argument: _devcompat_v1_GetClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  GetClaim(argument: _devcompat_v1_GetClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  GetClaim(argument: _devcompat_v1_GetClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  GetClaim(argument: _devcompat_v1_GetClaimRequest, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetClaim returns one live claim.
   */
  getClaim(argument: _devcompat_v1_GetClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  getClaim(argument: _devcompat_v1_GetClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  getClaim(argument: _devcompat_v1_GetClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  getClaim(argument: _devcompat_v1_GetClaimRequest, callback: grpc.requestCallback<_devcompat_v1_GetClaimResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * ListClaims lists live claims in (host id, claim id) order, paginated, by host or by
   * claim id.
   */
  ListClaims(argument: _devcompat_v1_ListClaimsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  ListClaims(argument: _devcompat_v1_ListClaimsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  ListClaims(argument: _devcompat_v1_ListClaimsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  ListClaims(argument: _devcompat_v1_ListClaimsRequest, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * ListClaims lists live claims in (host id, claim id) order, paginated, by host or by
   * claim id.
   */
  listClaims(argument: _devcompat_v1_ListClaimsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  listClaims(argument: _devcompat_v1_ListClaimsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  listClaims(argument: _devcompat_v1_ListClaimsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  listClaims(argument: _devcompat_v1_ListClaimsRequest, callback: grpc.requestCallback<_devcompat_v1_ListClaimsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * ReleaseClaim ends a live claim and frees the units it still holds; who may, as RenewClaim.
   */
  ReleaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  ReleaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  ReleaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  ReleaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  /**
   * ReleaseClaim ends a live claim and frees the units it still holds; who may, as RenewClaim.
   */
  releaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  releaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  releaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  releaseClaim(argument: _devcompat_v1_ReleaseClaimRequest, callback: grpc.requestCallback<_devcompat_v1_ReleaseClaimResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * RenewClaim moves a live claim's expiry to now plus its TTL (or a new TTL). Under mutual
   * TLS only the claim's owner or an `admin` may: another caller gets PERMISSION_DENIED.
   */
  RenewClaim(argument: _devcompat_v1_RenewClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  RenewClaim(argument: _devcompat_v1_RenewClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  RenewClaim(argument: _devcompat_v1_RenewClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  RenewClaim(argument: _devcompat_v1_RenewClaimRequest, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  /**
   * RenewClaim moves a live claim's expiry to now plus its TTL (or a new TTL). Under mutual
   * TLS only the claim's owner or an `admin` may: another caller gets PERMISSION_DENIED.
   */
  renewClaim(argument: _devcompat_v1_RenewClaimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  renewClaim(argument: _devcompat_v1_RenewClaimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  renewClaim(argument: _devcompat_v1_RenewClaimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  renewClaim(argument: _devcompat_v1_RenewClaimRequest, callback: grpc.requestCallback<_devcompat_v1_RenewClaimResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * PlacementService places whole VMs and reserves the capacity a migration needs
 * (docs/model.md, "Placing a VM" and "Claims"). A VM with two vGPUs and a VF is placed in one
 * call, onto one host, with one concrete assignment; a claim then holds the chosen units so
 * that no other scheduler takes them while the migration runs.
 */
export interface PlacementServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * CreateClaim reserves units of named devices of one host for one migration: all of them
   * or none, owned by the caller (Claim.owner). Retrying with the same claim_id and the same
   * body returns the same claim; the same claim_id with another body, or held by another
   * owner, fails with ALREADY_EXISTS; a device without enough free
   * units fails with ABORTED, reason CAPACITY_EXHAUSTED, naming the device; so does a host
   * that already holds 256 live claims (metadata host, live_claims, limit). Any placement
   * FindPlacements returns fits one claim.
   */
  CreateClaim: grpc.handleUnaryCall<_devcompat_v1_CreateClaimRequest__Output, _devcompat_v1_CreateClaimResponse>;
  
  /**
   * FindPlacements streams the hosts that can take every device of a VM at once, best first,
   * each with the assignment that ranks best on it; then, when asked, the hosts that could
   * take some but not all devices, with what is missing; then one summary.
   */
  FindPlacements: grpc.handleServerStreamingCall<_devcompat_v1_FindPlacementsRequest__Output, _devcompat_v1_FindPlacementsResponse>;
  
  /**
   * GetClaim returns one live claim.
   */
  GetClaim: grpc.handleUnaryCall<_devcompat_v1_GetClaimRequest__Output, _devcompat_v1_GetClaimResponse>;
  
  /**
   * ListClaims lists live claims in (host id, claim id) order, paginated, by host or by
   * claim id.
   */
  ListClaims: grpc.handleUnaryCall<_devcompat_v1_ListClaimsRequest__Output, _devcompat_v1_ListClaimsResponse>;
  
  /**
   * ReleaseClaim ends a live claim and frees the units it still holds; who may, as RenewClaim.
   */
  ReleaseClaim: grpc.handleUnaryCall<_devcompat_v1_ReleaseClaimRequest__Output, _devcompat_v1_ReleaseClaimResponse>;
  
  /**
   * RenewClaim moves a live claim's expiry to now plus its TTL (or a new TTL). Under mutual
   * TLS only the claim's owner or an `admin` may: another caller gets PERMISSION_DENIED.
   */
  RenewClaim: grpc.handleUnaryCall<_devcompat_v1_RenewClaimRequest__Output, _devcompat_v1_RenewClaimResponse>;
  
}

export interface PlacementServiceDefinition extends grpc.ServiceDefinition {
  CreateClaim: MethodDefinition<_devcompat_v1_CreateClaimRequest, _devcompat_v1_CreateClaimResponse, _devcompat_v1_CreateClaimRequest__Output, _devcompat_v1_CreateClaimResponse__Output>
  FindPlacements: MethodDefinition<_devcompat_v1_FindPlacementsRequest, _devcompat_v1_FindPlacementsResponse, _devcompat_v1_FindPlacementsRequest__Output, _devcompat_v1_FindPlacementsResponse__Output>
  GetClaim: MethodDefinition<_devcompat_v1_GetClaimRequest, _devcompat_v1_GetClaimResponse, _devcompat_v1_GetClaimRequest__Output, _devcompat_v1_GetClaimResponse__Output>
  ListClaims: MethodDefinition<_devcompat_v1_ListClaimsRequest, _devcompat_v1_ListClaimsResponse, _devcompat_v1_ListClaimsRequest__Output, _devcompat_v1_ListClaimsResponse__Output>
  ReleaseClaim: MethodDefinition<_devcompat_v1_ReleaseClaimRequest, _devcompat_v1_ReleaseClaimResponse, _devcompat_v1_ReleaseClaimRequest__Output, _devcompat_v1_ReleaseClaimResponse__Output>
  RenewClaim: MethodDefinition<_devcompat_v1_RenewClaimRequest, _devcompat_v1_RenewClaimResponse, _devcompat_v1_RenewClaimRequest__Output, _devcompat_v1_RenewClaimResponse__Output>
}
