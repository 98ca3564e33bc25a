// Resource names, ids and labels, and the validation of a whole SyncHost request.
// Pure: the gRPC handlers hand over plain objects and get validated values or a
// DomainError listing every offending field.

import type { Capacity, Descriptor, DescriptorInput } from './model.ts';
import { DomainError, Violations, invalidArgument } from './errors.ts';
import { validateDescriptorMemoized } from './descriptor-memo.ts';
import { hasControlCharacter, MAX_STRING_CHARS, NO_CONTROL_CHARACTERS, tooLong } from './values.ts';
import { validateBudgets, type Budget, type BudgetInput } from './budgets.ts';

export const LIMITS = {
  devicesPerHost: 4096,
  labelsPerResource: 64,
  labelValueLength: 256,
  actorLength: 256,
} as const;

// A host id is a DNS-like name, lower case: it appears in resource names and in URLs.
const HOST_ID = /^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$/;
// A device id is a PCI address (0000:3b:00.2), an mdev UUID, a ccw or AP bus id (0.0.1234).
const DEVICE_ID = /^[A-Za-z0-9]([A-Za-z0-9._:-]{0,126}[A-Za-z0-9])?$/;
const LABEL_KEY = /^[a-z0-9]([a-z0-9._/-]{0,62})$/;

export type Labels = Readonly<Record<string, string>>;

export function hostName(hostId: string): string {
  return `hosts/${hostId}`;
}

export function deviceName(hostId: string, deviceId: string): string {
  return `hosts/${hostId}/devices/${deviceId}`;
}

/**
 * The code-unit order of two devices' names (deviceName), without building either: a ranking
 * compares thousands of devices by name, and the live state keeps no name per device.
 */
export function compareDeviceNames(hostA: string, deviceA: string, hostB: string, deviceB: string): number {
  if (hostA === hostB) return deviceA < deviceB ? -1 : deviceA > deviceB ? 1 : 0;
  // Unless one host id begins the other, the names first differ where the host ids do (ids of
  // one length, as a fleet's often are, cannot); if one does, the '/' after the shorter one
  // takes part, so the whole names decide.
  const lengthA = hostA.length;
  const lengthB = hostB.length;
  if (lengthA !== lengthB && (lengthA < lengthB ? hostB.startsWith(hostA) : hostA.startsWith(hostB))) {
    const nameA = deviceName(hostA, deviceA);
    const nameB = deviceName(hostB, deviceB);
    return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
  }
  return hostA < hostB ? -1 : 1;
}

export function checkHostId(id: string, field: string, violations: Violations): void {
  if (!HOST_ID.test(id)) {
    violations.add(
      field,
      id === ''
        ? 'a host id is required'
        : `"${truncate(id)}" is not a valid host id (lower-case letters, digits, '.', '_', '-'; at most 253 characters)`,
    );
  }
}

export function checkDeviceId(id: string, field: string, violations: Violations): void {
  if (!DEVICE_ID.test(id)) {
    violations.add(
      field,
      id === ''
        ? 'a device id is required'
        : `"${truncate(id)}" is not a valid device id (letters, digits, '.', '_', ':', '-'; at most 128 characters)`,
    );
  }
}

/** Accepts `hosts/{host}` or a bare host id; returns the id. */
export function parseHostRef(text: string, field: string): string {
  const id = text.startsWith('hosts/') ? text.slice('hosts/'.length) : text;
  const violations = new Violations();
  checkHostId(id, field, violations);
  violations.throwIfAny();
  return id;
}

export interface DeviceNameParts {
  readonly hostId: string;
  readonly deviceId: string;
}

/** Parses `hosts/{host}/devices/{device}`. */
export function parseDeviceName(text: string, field: string): DeviceNameParts {
  const match = /^hosts\/([^/]*)\/devices\/([^/]*)$/.exec(text);
  if (!match) {
    throw invalidArgument([
      { field, description: `"${truncate(text)}" is not a device name (hosts/{host}/devices/{device})` },
    ]);
  }
  const violations = new Violations();
  checkHostId(match[1], field, violations);
  checkDeviceId(match[2], field, violations);
  violations.throwIfAny();
  return { hostId: match[1], deviceId: match[2] };
}

/**
 * A filter on a descriptor string (vendor, device_api, type): empty for none, else what a
 * descriptor may hold (at most 256 characters, no control character). A longer one could match
 * nothing, and a standing query (Watch) would hold it for its lifetime.
 */
export function checkFilterString(text: string | null | undefined, field: string, violations: Violations): void {
  if (!text) return;
  if (tooLong(text)) violations.add(field, `at most ${MAX_STRING_CHARS} characters`);
  else if (hasControlCharacter(text)) violations.add(field, NO_CONTROL_CHARACTERS);
}

/** The most hosts `exclude_hosts` names (FindTargets, WatchTargets, FindPlacements). */
export const MAX_EXCLUDED_HOSTS = 10_000;

/**
 * Valid label sets by their input, for inputs that cannot change: a frozen map (the SyncHost
 * decoder gives one shared frozen map per distinct encoding of a device's labels), validated
 * once. Only a set with no violation is remembered: a violation names the request's field.
 */
const validLabelsByInput = new WeakMap<object, Labels>();

export function validateLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  field: string,
  violations: Violations,
): Labels {
  const frozen = labels !== null && labels !== undefined && Object.isFrozen(labels);
  if (frozen) {
    const valid = validLabelsByInput.get(labels);
    if (valid) return valid;
  }
  const violationsBefore = violations.list.length;
  const entries = Object.entries(labels ?? {});
  if (entries.length > LIMITS.labelsPerResource) {
    violations.add(field, `at most ${LIMITS.labelsPerResource} labels, got ${entries.length}`);
  }
  const sorted: Record<string, string> = {};
  for (const [key, value] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!LABEL_KEY.test(key)) {
      violations.add(`${field}["${truncate(key)}"]`, `label key must match ${LABEL_KEY.source}`);
    }
    if (typeof value !== 'string' || value.length > LIMITS.labelValueLength) {
      violations.add(`${field}["${truncate(key)}"]`, `label value must be a string of at most ${LIMITS.labelValueLength} characters`);
    } else if (hasControlCharacter(value)) {
      violations.add(`${field}["${truncate(key)}"]`, `label value ${NO_CONTROL_CHARACTERS}`);
    }
    sorted[key] = value;
  }
  if (frozen && violations.list.length === violationsBefore) validLabelsByInput.set(labels, sorted);
  return sorted;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && a[key] === b[key]);
}

export function labelsMatch(labels: Labels, selector: Labels): boolean {
  for (const key in selector) {
    if (labels[key] !== selector[key]) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// SyncHost

export interface CapacityInput {
  total?: number | string | null;
  available?: number | string | null;
}

export interface DeviceSpecInput {
  device_id?: string | null;
  descriptor?: DescriptorInput | null;
  capacity?: CapacityInput | null;
  labels?: Record<string, string> | null;
}

export interface SyncHostInput {
  name?: string | null;
  labels?: Record<string, string> | null;
  devices?: readonly DeviceSpecInput[] | null;
  expected_revision?: number | string | null;
  budgets?: readonly BudgetInput[] | null;
}

export interface DeviceSpec {
  readonly deviceId: string;
  readonly descriptor: Descriptor;
  readonly capacity: Capacity | undefined;
  readonly labels: Labels;
}

export interface SyncHostCommand {
  readonly hostId: string;
  readonly labels: Labels;
  /** Sorted by device id. */
  readonly devices: readonly DeviceSpec[];
  readonly expectedRevision: number | undefined;
  /** The host's shared budgets, in budget id order (empty: none). */
  readonly budgets: readonly Budget[];
}

/** Validates a whole SyncHost request; throws one INVALID_ARGUMENT listing every violation. */
export function validateSyncHost(input: SyncHostInput): SyncHostCommand {
  const violations = new Violations();
  const rawName = input.name ?? '';
  const hostId = rawName.startsWith('hosts/') ? rawName.slice('hosts/'.length) : rawName;
  checkHostId(hostId, 'name', violations);
  const labels = validateLabels(input.labels, 'labels', violations);
  const expectedRevision = optionalRevision(input.expected_revision, 'expected_revision', violations);

  const inputs = input.devices ?? [];
  if (inputs.length > LIMITS.devicesPerHost) {
    violations.add('devices', `at most ${LIMITS.devicesPerHost} devices per host, got ${inputs.length}`);
    violations.throwIfAny();
  }
  const seen = new Set<string>();
  const devices: DeviceSpec[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const device = inputs[index];
    const fields = deviceFields(index);
    const deviceId = device.device_id ?? '';
    checkDeviceId(deviceId, fields.deviceId, violations);
    if (seen.has(deviceId)) violations.add(fields.deviceId, `duplicate device id "${truncate(deviceId)}"`);
    seen.add(deviceId);
    const deviceLabels = validateLabels(device.labels, fields.labels, violations);
    const capacity = validateCapacity(device.capacity, fields.capacity, violations);
    if (!device.descriptor) {
      violations.add(fields.descriptor, 'a descriptor is required');
      continue;
    }
    try {
      const descriptor = validateDescriptorMemoized(device.descriptor, fields.descriptorPrefix);
      devices.push({ deviceId: sharedDeviceId(deviceId), descriptor, capacity, labels: deviceLabels });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      for (const violation of error.violations) violations.add(violation.field, violation.description);
    }
  }
  const budgets = validateBudgets(input.budgets, seen, violations);
  violations.throwIfAny();
  // Agents send their devices in order as a rule: the sort (and its copy) only when they are not.
  if (!sortedByDeviceId(devices)) devices.sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  return { hostId, labels, devices, expectedRevision, budgets };
}

/** The field names of `devices[i]` in a SyncHost request. */
interface DeviceFields {
  readonly deviceId: string;
  readonly labels: string;
  readonly capacity: string;
  readonly descriptor: string;
  /** The prefix of the descriptor's own fields (`devices[i].descriptor.`). */
  readonly descriptorPrefix: string;
}

/**
 * Field names by device index, each made once: a registration of 160,000 devices built five
 * strings per device for the violations a valid request never has. Bounded by the request's
 * device limit (validateSyncHost refuses more before it gets here).
 */
const deviceFieldNames: DeviceFields[] = [];

function deviceFields(index: number): DeviceFields {
  let fields = deviceFieldNames[index];
  if (fields === undefined) {
    const path = `devices[${index}]`;
    fields = {
      deviceId: `${path}.device_id`,
      labels: `${path}.labels`,
      capacity: `${path}.capacity`,
      descriptor: `${path}.descriptor`,
      descriptorPrefix: `${path}.descriptor.`,
    };
    deviceFieldNames[index] = fields;
  }
  return fields;
}

function sortedByDeviceId(devices: readonly DeviceSpec[]): boolean {
  for (let i = 1; i < devices.length; i++) if (!(devices[i - 1].deviceId < devices[i].deviceId)) return false;
  return true;
}

/**
 * Device ids repeat from host to host (PCI addresses, VF indexes): every host of a fleet has its
 * `0000:3b:00.1`. The live state keeps each device's id for as long as the device lives, so an
 * id seen before is shared rather than kept once per device (about 32 bytes each). Bounded: a
 * fleet whose ids are all distinct (UUIDs) churns through the table, which holds nothing the
 * devices do not hold already.
 */
const SHARED_DEVICE_IDS_LIMIT = 16_384;
const sharedDeviceIds = new Map<string, string>();

export function sharedDeviceId(deviceId: string): string {
  const shared = sharedDeviceIds.get(deviceId);
  if (shared !== undefined) return shared;
  if (sharedDeviceIds.size >= SHARED_DEVICE_IDS_LIMIT) sharedDeviceIds.clear();
  sharedDeviceIds.set(deviceId, deviceId);
  return deviceId;
}

function validateCapacity(
  capacity: CapacityInput | null | undefined,
  field: string,
  violations: Violations,
): Capacity | undefined {
  if (capacity == null) return undefined;
  const total = Number(capacity.total ?? 0);
  const available = Number(capacity.available ?? 0);
  if (!Number.isSafeInteger(total) || total < 0) {
    violations.add(`${field}.total`, 'must be a non-negative integer');
  } else if (!Number.isSafeInteger(available) || available < 0) {
    violations.add(`${field}.available`, 'must be a non-negative integer');
  } else if (available > total) {
    violations.add(`${field}.available`, `available (${available}) exceeds total (${total})`);
  }
  return { total, available };
}

export function optionalRevision(
  value: number | string | null | undefined,
  field: string,
  violations: Violations,
): number | undefined {
  if (value == null) return undefined;
  const revision = Number(value);
  if (!Number.isSafeInteger(revision) || revision < 0) {
    violations.add(field, 'must be a non-negative integer');
    return undefined;
  }
  return revision;
}

/** The actor recorded in history: request metadata for now, mTLS identities later. */
export function validateActor(actor: string | undefined): string {
  if (actor === undefined || actor === '') return 'anonymous';
  if (actor.length > LIMITS.actorLength || /[\u0000-\u001f\u007f]/.test(actor)) {
    throw invalidArgument([
      { field: 'x-devcompat-actor', description: `must be printable and at most ${LIMITS.actorLength} characters` },
    ]);
  }
  return actor;
}

export function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
