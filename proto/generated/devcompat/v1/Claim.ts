// Original file: proto/devcompat/v1/placement.proto

import type { ClaimedDevice as _devcompat_v1_ClaimedDevice, ClaimedDevice__Output as _devcompat_v1_ClaimedDevice__Output } from '../../devcompat/v1/ClaimedDevice.ts';
import type { ClaimState as _devcompat_v1_ClaimState, ClaimState__Output as _devcompat_v1_ClaimState__Output } from '../../devcompat/v1/ClaimState.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Claim reserves units of devices of one host for one migration.
 */
export interface Claim {
  /**
   * name is the resource name `hosts/{host}/claims/{claim_id}`.
   */
  'name'?: (string);
  /**
   * devices are the claimed devices in device id order.
   */
  'devices'?: (_devcompat_v1_ClaimedDevice)[];
  /**
   * state is ACTIVE for a live claim; an ended claim is only seen in history, watch events
   * and the responses that end it.
   */
  'state'?: (_devcompat_v1_ClaimState);
  /**
   * ttl_ms is the claim's time to live in milliseconds: how far each renewal moves the expiry.
   */
  'ttl_ms'?: (number);
  /**
   * create_time is when the claim was created.
   */
  'create_time'?: (_google_protobuf_Timestamp | null);
  /**
   * expire_time is when the claim expires unless renewed.
   */
  'expire_time'?: (_google_protobuf_Timestamp | null);
  /**
   * end_time is when the claim was released, expired or used up; absent while ACTIVE.
   */
  'end_time'?: (_google_protobuf_Timestamp | null);
  /**
   * create_revision is the registry revision that created the claim.
   */
  'create_revision'?: (number | string | Long);
  /**
   * revision is the registry revision of the claim's last recorded change.
   */
  'revision'?: (number | string | Long);
  /**
   * owner is who created the claim: the caller's identity under mutual TLS (only it, or an
   * `admin`, may renew or release the claim), else the request's `x-devcompat-actor`. Empty
   * for a claim created before claims had owners.
   */
  'owner'?: (string);
}

/**
 * Claim reserves units of devices of one host for one migration.
 */
export interface Claim__Output {
  /**
   * name is the resource name `hosts/{host}/claims/{claim_id}`.
   */
  'name': (string);
  /**
   * devices are the claimed devices in device id order.
   */
  'devices': (_devcompat_v1_ClaimedDevice__Output)[];
  /**
   * state is ACTIVE for a live claim; an ended claim is only seen in history, watch events
   * and the responses that end it.
   */
  'state': (_devcompat_v1_ClaimState__Output);
  /**
   * ttl_ms is the claim's time to live in milliseconds: how far each renewal moves the expiry.
   */
  'ttl_ms': (number);
  /**
   * create_time is when the claim was created.
   */
  'create_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * expire_time is when the claim expires unless renewed.
   */
  'expire_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * end_time is when the claim was released, expired or used up; absent while ACTIVE.
   */
  'end_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * create_revision is the registry revision that created the claim.
   */
  'create_revision': (string);
  /**
   * revision is the registry revision of the claim's last recorded change.
   */
  'revision': (string);
  /**
   * owner is who created the claim: the caller's identity under mutual TLS (only it, or an
   * `admin`, may renew or release the claim), else the request's `x-devcompat-actor`. Empty
   * for a claim created before claims had owners.
   */
  'owner': (string);
}
