// The shapes the benchmark fleet is made of: descriptors in their JSON form (proto field names,
// enums by full name, as the conformance vectors write them), devices, hosts, and the spec
// (size and seed) that fixes a fleet. Shared by the generator, the shape report and the find
// sources, and by the loaders that send the fleet to a server.

import type { CompareOp } from '../client/types.ts';

// Descriptor JSON (proto field names, as in the conformance vectors).

export type CompareOpName = CompareOp;

export type AttributeValueJson =
  | { readonly int_value: number }
  | { readonly string_value: string }
  | { readonly bool_value: boolean }
  | { readonly version_value: string }
  | { readonly set_value: { readonly values: readonly string[] } };

export interface RuleJson {
  readonly op: CompareOpName;
  readonly values?: readonly AttributeValueJson[];
  readonly range?: string;
  readonly warn_only?: boolean;
}

export interface DescriptorJson {
  readonly vendor: string;
  readonly device_api: string;
  readonly type: string;
  readonly compatible_types?: readonly string[];
  readonly software_version: string;
  readonly attributes: Readonly<Record<string, AttributeValueJson>>;
  readonly rules: Readonly<Record<string, RuleJson>>;
}

// Fleet shapes.

export interface FleetDevice {
  device_id: string;
  /** Shared with every device of the same descriptor, and frozen. */
  descriptor: DescriptorJson;
  capacity?: { total: number; available: number };
  labels: Record<string, string>;
}

export interface FleetHost {
  host_id: string;
  labels: Record<string, string>;
  devices: FleetDevice[];
  hostClass: string;
}

export interface FleetSpec {
  /** Number of hosts (10,000 for the reference fleet). */
  hosts: number;
  /** Any 32-bit integer; the reference fleet uses 1. */
  seed: number;
}
