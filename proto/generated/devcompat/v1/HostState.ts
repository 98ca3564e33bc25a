// Original file: proto/devcompat/v1/registry.proto

/**
 * HostState is whether a host may receive migrations.
 */
export const HostState = {
  /**
   * HOST_STATE_UNSPECIFIED is never sent.
   */
  HOST_STATE_UNSPECIFIED: 'HOST_STATE_UNSPECIFIED',
  /**
   * HOST_STATE_READY means the host's lease is current and it is not draining.
   */
  HOST_STATE_READY: 'HOST_STATE_READY',
  /**
   * HOST_STATE_UNREACHABLE means the host's lease lapsed: its agent neither synced nor sent
   * a keepalive within the lease TTL. FindTargets leaves its devices out unless asked.
   */
  HOST_STATE_UNREACHABLE: 'HOST_STATE_UNREACHABLE',
  /**
   * HOST_STATE_DRAINING means an operator marked the host as draining and its lease is
   * current. FindTargets leaves its devices out unless asked.
   */
  HOST_STATE_DRAINING: 'HOST_STATE_DRAINING',
} as const;

/**
 * HostState is whether a host may receive migrations.
 */
export type HostState =
  /**
   * HOST_STATE_UNSPECIFIED is never sent.
   */
  | 'HOST_STATE_UNSPECIFIED'
  | 0
  /**
   * HOST_STATE_READY means the host's lease is current and it is not draining.
   */
  | 'HOST_STATE_READY'
  | 1
  /**
   * HOST_STATE_UNREACHABLE means the host's lease lapsed: its agent neither synced nor sent
   * a keepalive within the lease TTL. FindTargets leaves its devices out unless asked.
   */
  | 'HOST_STATE_UNREACHABLE'
  | 2
  /**
   * HOST_STATE_DRAINING means an operator marked the host as draining and its lease is
   * current. FindTargets leaves its devices out unless asked.
   */
  | 'HOST_STATE_DRAINING'
  | 3

/**
 * HostState is whether a host may receive migrations.
 */
export type HostState__Output = typeof HostState[keyof typeof HostState]
