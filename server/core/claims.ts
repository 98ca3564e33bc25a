// Claims: capacity reserved on named devices of one host for one migration, and the capacity
// accounting that every reader of "free units" shares (docs/model.md, "Claims").
//
// Pure functions over immutable values: each takes a host's live claims (a ClaimBook), what
// the host reported (HostCapacity) and the time, and returns the next book plus the claims
// that changed or ended, for the registry to persist and record as history. Nothing here
// knows about storage, revisions or gRPC, so the state machine and its invariant (claimed
// units never exceed what a device or a shared budget has available) are tested on their own.
//
// The lifecycle: create (all devices or none) -> ACTIVE -> RELEASED | EXPIRED | CONSUMED.
// Only ACTIVE claims live in the book; ended ones are returned once, to be recorded.

import type { Capacity } from './model.ts';
import type { Budget } from './budgets.ts';
import { DomainError, Violations, invalidArgument, notFound } from './errors.ts';
import { checkDeviceId, checkHostId, deviceName, truncate } from './resources.ts';

export const CLAIM_TTL = {
  /** Five minutes: a migration's setup, not its whole run; renew for longer. */
  defaultMs: 300_000,
  minMs: 1_000,
  /** One hour: a forgotten claim must not hold capacity for longer without a renewal. */
  maxMs: 3_600_000,
} as const;

/**
 * What one claim may reserve. Any placement FindPlacements returns fits one claim: a VM needs at
 * most 32 units (placement-request.ts, PLACEMENT_LIMITS.unitsPerVm), which may be 32 devices of
 * one unit or, when several requests land on one device, up to 32 units of one device.
 */
export const CLAIM_LIMITS = {
  devicesPerClaim: 32,
  unitsPerDevice: 32,
  unitsPerClaim: 32,
  /**
   * Live claims one host may hold: far more than the migrations a host takes at once, and a
   * bound on what claims cost (each device read of the host counts them) however large the
   * capacities a host reports. A host holding this many is no placement.
   */
  claimsPerHost: 256,
} as const;

const CLAIM_ID = /^[A-Za-z0-9]([A-Za-z0-9._:-]{0,126}[A-Za-z0-9])?$/;

export type ClaimState = 'CLAIM_STATE_ACTIVE' | 'CLAIM_STATE_RELEASED' | 'CLAIM_STATE_EXPIRED' | 'CLAIM_STATE_CONSUMED';

export interface ClaimedDevice {
  readonly deviceId: string;
  /** Units reserved at creation. */
  readonly count: number;
  /** Units still held: count minus the units host syncs used up. */
  readonly remaining: number;
}

export interface Claim {
  readonly hostId: string;
  readonly claimId: string;
  readonly devices: readonly ClaimedDevice[]; // device id order
  readonly state: ClaimState;
  readonly ttlMs: number;
  readonly createTimeMs: number;
  readonly expireTimeMs: number;
  /** When the claim ended; undefined while ACTIVE. */
  readonly endTimeMs?: number;
  /** The creating request's body (devices, counts, TTL): a retry must match it. */
  readonly fingerprint: string;
  /**
   * Who created it: the authenticated identity under mutual TLS, else the request's actor.
   * '' for a claim stored before claims had owners (anyone who may claim may end it).
   */
  readonly owner: string;
}

/**
 * Who asks to create, renew or release a claim. `actsForAnyone` is true for a caller that may
 * act on any claim (authz.ts `claimCallerOf`: unauthenticated callers, `admin`); any other
 * caller may renew or release only the claims it owns.
 */
export interface ClaimCaller {
  readonly identity: string;
  readonly actsForAnyone: boolean;
}

/**
 * One host's live claims, oldest first (a Map keeps insertion order): the order in which a
 * sync uses them up. Load persisted claims in creation order to keep it across restarts.
 */
export interface ClaimBook {
  readonly hostId: string;
  readonly claims: ReadonlyMap<string, Claim>;
}

/** What a host reported, as claims need it: each device's capacity (absent = one unit) and its budgets. */
export interface HostCapacity {
  readonly devices: ReadonlyMap<string, Capacity | undefined>;
  readonly budgets: readonly Budget[];
}

export function emptyBook(hostId: string): ClaimBook {
  return { hostId, claims: new Map() };
}

export function claimName(hostId: string, claimId: string): string {
  return `hosts/${hostId}/claims/${claimId}`;
}

/** A device that reports no capacity is one unit, free unless claimed. */
export function unitsOf(capacity: Capacity | undefined): number {
  return capacity ? capacity.available : 1;
}

// ---------------------------------------------------------------------------------------
// Accounting

/** Units held by live claims, per device and (as amounts) per budget. */
export interface HostUsage {
  readonly claimedByDevice: ReadonlyMap<string, number>;
  readonly claimedByBudget: ReadonlyMap<string, number>;
}

export function hostUsage(book: ClaimBook, budgets: readonly Budget[]): HostUsage {
  const claimedByDevice = new Map<string, number>();
  for (const claim of book.claims.values()) {
    for (const device of claim.devices) {
      if (device.remaining > 0) claimedByDevice.set(device.deviceId, (claimedByDevice.get(device.deviceId) ?? 0) + device.remaining);
    }
  }
  const claimedByBudget = new Map<string, number>();
  for (const budget of budgets) {
    let draw = 0;
    for (const [deviceId, perUnit] of budget.consumption) draw += (claimedByDevice.get(deviceId) ?? 0) * perUnit;
    claimedByBudget.set(budget.budgetId, draw);
  }
  return { claimedByDevice, claimedByBudget };
}

/**
 * Free units per device and free amounts per budget, claims counted: what placements and new
 * claims may use. A device's `free` does not yet apply its budgets (assignment.ts does, since
 * siblings compete for them); `freeUnits` gives the figure with budgets applied.
 */
export interface FreeState {
  readonly deviceFree: ReadonlyMap<string, number>;
  readonly budgetFree: ReadonlyMap<string, number>;
}

export function freeState(capacity: HostCapacity, book: ClaimBook): FreeState {
  const usage = hostUsage(book, capacity.budgets);
  const deviceFree = new Map<string, number>();
  for (const [deviceId, cap] of capacity.devices) {
    deviceFree.set(deviceId, Math.max(0, unitsOf(cap) - (usage.claimedByDevice.get(deviceId) ?? 0)));
  }
  const budgetFree = new Map<string, number>();
  for (const budget of capacity.budgets) {
    budgetFree.set(budget.budgetId, Math.max(0, budget.available - (usage.claimedByBudget.get(budget.budgetId) ?? 0)));
  }
  return { deviceFree, budgetFree };
}

/**
 * One device's free units, claims counted and its budgets applied, without building the whole
 * host's FreeState: what reads (ListDevices, FindTargets available-only) show and filter on.
 * A device that reports no capacity is one unit here; FindTargets keeps requiring capacity.
 */
export function deviceFreeUnits(capacity: Capacity | undefined, budgets: readonly Budget[], usage: HostUsage, deviceId: string): number {
  let free = unitsOf(capacity) - (usage.claimedByDevice.get(deviceId) ?? 0);
  for (const budget of budgets) {
    const perUnit = budget.consumption.get(deviceId);
    if (perUnit === undefined) continue;
    free = Math.min(free, Math.floor((budget.available - (usage.claimedByBudget.get(budget.budgetId) ?? 0)) / perUnit));
  }
  return Math.max(0, free);
}

export const NO_USAGE: HostUsage = { claimedByDevice: new Map(), claimedByBudget: new Map() };

/** A device's free units with its budgets applied: what one new claim on it alone could take. */
export function freeUnits(capacity: HostCapacity, state: FreeState, deviceId: string): number {
  let free = state.deviceFree.get(deviceId) ?? 0;
  for (const budget of capacity.budgets) {
    const perUnit = budget.consumption.get(deviceId);
    if (perUnit !== undefined) free = Math.min(free, Math.floor((state.budgetFree.get(budget.budgetId) ?? 0) / perUnit));
  }
  return free;
}

// ---------------------------------------------------------------------------------------
// Requests

export interface ClaimDeviceSpecInput {
  device?: string | null;
  count?: number | null;
}

export interface CreateClaimInput {
  parent?: string | null;
  claim_id?: string | null;
  devices?: readonly ClaimDeviceSpecInput[] | null;
  ttl_ms?: number | null;
}

export interface ClaimSpec {
  readonly hostId: string;
  readonly claimId: string;
  /** Device id order, each device once. */
  readonly devices: readonly { readonly deviceId: string; readonly count: number }[];
  readonly ttlMs: number;
}

/** Validates a CreateClaim request; throws one INVALID_ARGUMENT listing every violation. */
export function validateCreateClaim(input: CreateClaimInput): ClaimSpec {
  const violations = new Violations();
  const parent = input.parent ?? '';
  const hostId = parent.startsWith('hosts/') ? parent.slice('hosts/'.length) : parent;
  checkHostId(hostId, 'parent', violations);
  const claimId = input.claim_id ?? '';
  checkClaimId(claimId, 'claim_id', violations);
  const ttlMs = validateTtl(input.ttl_ms, 'ttl_ms', violations) ?? CLAIM_TTL.defaultMs;

  const inputs = input.devices ?? [];
  if (inputs.length === 0) violations.add('devices', 'a claim needs at least one device');
  if (inputs.length > CLAIM_LIMITS.devicesPerClaim) {
    violations.add('devices', `at most ${CLAIM_LIMITS.devicesPerClaim} devices per claim, got ${inputs.length}`);
  }
  const devices: { deviceId: string; count: number }[] = [];
  const seen = new Set<string>();
  let units = 0;
  inputs.slice(0, CLAIM_LIMITS.devicesPerClaim).forEach((spec, index) => {
    const path = `devices[${index}]`;
    const raw = spec.device ?? '';
    let deviceId = raw;
    const prefix = `hosts/${hostId}/devices/`;
    if (raw.startsWith('hosts/')) {
      if (!raw.startsWith(prefix)) {
        violations.add(`${path}.device`, `"${truncate(raw)}" is not a device of ${parent === '' ? 'the claim\'s host' : `hosts/${hostId}`} (one claim covers one host)`);
        return;
      }
      deviceId = raw.slice(prefix.length);
    }
    checkDeviceId(deviceId, `${path}.device`, violations);
    if (seen.has(deviceId)) violations.add(`${path}.device`, `device "${truncate(deviceId)}" is named twice; give it one count`);
    seen.add(deviceId);
    const count = spec.count == null || spec.count === 0 ? 1 : spec.count;
    if (!Number.isSafeInteger(count) || count < 1 || count > CLAIM_LIMITS.unitsPerDevice) {
      violations.add(`${path}.count`, `must be from 1 to ${CLAIM_LIMITS.unitsPerDevice}`);
      return;
    }
    units += count;
    devices.push({ deviceId, count });
  });
  if (units > CLAIM_LIMITS.unitsPerClaim) violations.add('devices', `at most ${CLAIM_LIMITS.unitsPerClaim} units per claim, got ${units}`);
  violations.throwIfAny();
  devices.sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  return { hostId, claimId, devices, ttlMs };
}

export function checkClaimId(id: string, field: string, violations: Violations): void {
  if (!CLAIM_ID.test(id)) {
    violations.add(
      field,
      id === ''
        ? 'a claim id is required (the migration\'s id: it makes retries safe)'
        : `"${truncate(id)}" is not a valid claim id (letters, digits, '.', '_', ':', '-'; at most 128 characters)`,
    );
  }
}

/** A TTL in milliseconds; 0 or absent means "not given" (undefined). */
export function validateTtl(raw: number | null | undefined, field: string, violations: Violations): number | undefined {
  if (raw == null || raw === 0) return undefined;
  if (!Number.isSafeInteger(raw) || raw < CLAIM_TTL.minMs || raw > CLAIM_TTL.maxMs) {
    violations.add(field, `must be from ${CLAIM_TTL.minMs} to ${CLAIM_TTL.maxMs} milliseconds (default ${CLAIM_TTL.defaultMs})`);
    return undefined;
  }
  return raw;
}

/** Parses `hosts/{host}/claims/{claim_id}`. */
export function parseClaimName(text: string, field: string): { hostId: string; claimId: string } {
  const match = /^hosts\/([^/]*)\/claims\/([^/]*)$/.exec(text);
  if (!match) {
    throw invalidArgument([{ field, description: `"${truncate(text)}" is not a claim name (hosts/{host}/claims/{claim_id})` }]);
  }
  const violations = new Violations();
  checkHostId(match[1], field, violations);
  checkClaimId(match[2], field, violations);
  violations.throwIfAny();
  return { hostId: match[1], claimId: match[2] };
}

function fingerprintOf(spec: ClaimSpec): string {
  return JSON.stringify([spec.devices.map((d) => [d.deviceId, d.count]), spec.ttlMs]);
}

// ---------------------------------------------------------------------------------------
// Transitions. Each first expires what has lapsed, so that a lapsed claim never holds
// capacity or answers a retry, and returns those ended claims for recording.
//
// A transition's time is the wall-clock moment that dates it (`nowMs`) and, optionally, which
// claims have lapsed: by default those whose expiry is at or before `nowMs`; the registry
// decides it on a clock that is never stepped (claims-registry.ts), so that a wall clock
// stepped forward does not expire every claim at once, nor one stepped back keep claims alive.

export interface ClaimTime {
  /** Milliseconds since the epoch: what dates the transition (create, renew, release, ends). */
  readonly nowMs: number;
  /** Whether a claim has run out; default: its expiry is at or before `nowMs`. */
  readonly lapsed?: (claim: Claim) => boolean;
}

function timeOf(at: number | ClaimTime): { readonly nowMs: number; readonly lapsed: (claim: Claim) => boolean } {
  if (typeof at === 'number') return { nowMs: at, lapsed: (claim) => claim.expireTimeMs <= at };
  const { nowMs, lapsed } = at;
  return { nowMs, lapsed: lapsed ?? ((claim) => claim.expireTimeMs <= nowMs) };
}

export interface Transition {
  readonly book: ClaimBook;
  /** Claims that ended in this transition (expired in passing, released, consumed). */
  readonly ended: readonly Claim[];
}

export interface CreateOutcome extends Transition {
  readonly claim: Claim;
  /** False when a live claim with the same id and body already existed (a retry). */
  readonly created: boolean;
}

/** Whether the host's live claims are as many as one host may hold: it takes no other claim (and is no placement). */
export function holdsMostClaims(book: ClaimBook): boolean {
  return book.claims.size >= CLAIM_LIMITS.claimsPerHost;
}

/**
 * Creates a claim: every device's units or none, owned by the caller. A live claim with the
 * same id and body is returned as it is to its owner; the same id with another body, or held by
 * another owner, is ALREADY_EXISTS; a device that is not on
 * the host is NOT_FOUND; a device (or a shared budget) without enough free units is
 * CAPACITY_EXHAUSTED naming the device.
 */
export function createClaim(book: ClaimBook, capacity: HostCapacity, spec: ClaimSpec, caller: ClaimCaller, at: number | ClaimTime): CreateOutcome {
  if (spec.hostId !== book.hostId) throw new Error(`claim for ${spec.hostId} applied to the book of ${book.hostId}`);
  const { nowMs } = timeOf(at);
  const expired = expireClaims(book, at);
  const live = expired.book;
  const fingerprint = fingerprintOf(spec);
  const existing = live.claims.get(spec.claimId);
  if (existing) {
    // A retry answers only its own caller: another scheduler's claim under the same id is
    // theirs, whatever its body.
    if (!mayActOn(existing, caller)) {
      throw new DomainError(
        'ALREADY_EXISTS',
        `${claimName(spec.hostId, spec.claimId)} already exists, held by ${existing.owner}; use another claim id`,
        { metadata: { resource: claimName(spec.hostId, spec.claimId), owner: existing.owner } },
      );
    }
    if (existing.fingerprint === fingerprint) return { book: live, ended: expired.ended, claim: existing, created: false };
    throw new DomainError(
      'ALREADY_EXISTS',
      `${claimName(spec.hostId, spec.claimId)} already exists with other devices, counts or TTL; use another claim id or release it first`,
      { metadata: { resource: claimName(spec.hostId, spec.claimId) } },
    );
  }
  for (const { deviceId } of spec.devices) {
    if (!capacity.devices.has(deviceId)) throw notFound(deviceName(spec.hostId, deviceId));
  }
  if (holdsMostClaims(live)) {
    throw new DomainError(
      'CAPACITY_EXHAUSTED',
      `hosts/${spec.hostId} holds ${live.claims.size} live claims, the most one host may hold: release one or let one expire, or place the VM elsewhere`,
      { metadata: { host: `hosts/${spec.hostId}`, live_claims: String(live.claims.size), limit: String(CLAIM_LIMITS.claimsPerHost) } },
    );
  }
  const state = freeState(capacity, live);
  for (const { deviceId, count } of spec.devices) {
    const free = freeUnits(capacity, state, deviceId);
    if (count > free) throw capacityExhausted(spec.hostId, deviceId, count, free, limitingBudget(capacity, state, deviceId, count));
  }
  // The per-device check applies each budget to one device alone; sibling devices of one
  // claim compete for the same budget, so check their sum too.
  for (const budget of capacity.budgets) {
    let draw = 0;
    let first: { deviceId: string; count: number } | undefined;
    for (const device of spec.devices) {
      const perUnit = budget.consumption.get(device.deviceId);
      if (perUnit === undefined) continue;
      draw += perUnit * device.count;
      first ??= device;
    }
    const room = state.budgetFree.get(budget.budgetId) ?? 0;
    if (first && draw > room) {
      throw capacityExhausted(spec.hostId, first.deviceId, first.count, freeUnits(capacity, state, first.deviceId), budget.budgetId, true);
    }
  }
  const claim: Claim = {
    hostId: spec.hostId,
    claimId: spec.claimId,
    devices: spec.devices.map(({ deviceId, count }) => ({ deviceId, count, remaining: count })),
    state: 'CLAIM_STATE_ACTIVE',
    ttlMs: spec.ttlMs,
    createTimeMs: nowMs,
    expireTimeMs: nowMs + spec.ttlMs,
    fingerprint,
    owner: caller.identity,
  };
  const claims = new Map(live.claims);
  claims.set(claim.claimId, claim);
  return { book: { hostId: book.hostId, claims }, ended: expired.ended, claim, created: true };
}

/** The shared budget that leaves the device fewer than `count` units, if one does (for the error). */
function limitingBudget(capacity: HostCapacity, state: FreeState, deviceId: string, count: number): string | undefined {
  if ((state.deviceFree.get(deviceId) ?? 0) < count) return undefined;
  return capacity.budgets.find((budget) => {
    const perUnit = budget.consumption.get(deviceId);
    return perUnit !== undefined && Math.floor((state.budgetFree.get(budget.budgetId) ?? 0) / perUnit) < count;
  })?.budgetId;
}

function capacityExhausted(
  hostId: string,
  deviceId: string,
  requested: number,
  free: number,
  budgetId?: string,
  siblings = false,
): DomainError {
  const device = deviceName(hostId, deviceId);
  const message =
    budgetId === undefined
      ? `${device}: ${requested} unit(s) requested, ${free} free`
      : siblings
        ? `${device}: the shared budget "${budgetId}" cannot cover every device of the claim at once`
        : `${device}: ${requested} unit(s) requested, ${free} free: the shared budget "${budgetId}" is used up by the units held on the devices that draw on it`;
  const metadata: Record<string, string> = { device, requested: String(requested), free: String(free) };
  if (budgetId !== undefined) metadata.budget = budgetId;
  return new DomainError('CAPACITY_EXHAUSTED', message, { metadata });
}

export interface ClaimOutcome extends Transition {
  readonly claim: Claim;
}

/** Moves a live claim's expiry to now + TTL (the new TTL when given). NOT_FOUND when not live, PERMISSION_DENIED when another's. */
export function renewClaim(book: ClaimBook, claimId: string, ttlMs: number | undefined, caller: ClaimCaller, at: number | ClaimTime): ClaimOutcome {
  const { nowMs } = timeOf(at);
  const expired = expireClaims(book, at);
  const claim = ownClaim(expired.book, claimId, caller, 'renew');
  const ttl = ttlMs ?? claim.ttlMs;
  const renewed: Claim = { ...claim, ttlMs: ttl, expireTimeMs: nowMs + ttl };
  const claims = new Map(expired.book.claims);
  claims.set(claimId, renewed);
  return { book: { hostId: book.hostId, claims }, ended: expired.ended, claim: renewed };
}

/** Ends a live claim; its remaining units are free again. NOT_FOUND when not live, PERMISSION_DENIED when another's. */
export function releaseClaim(book: ClaimBook, claimId: string, caller: ClaimCaller, at: number | ClaimTime): ClaimOutcome {
  const { nowMs } = timeOf(at);
  const expired = expireClaims(book, at);
  const claim = ownClaim(expired.book, claimId, caller, 'release');
  const released: Claim = { ...claim, state: 'CLAIM_STATE_RELEASED', endTimeMs: nowMs };
  const claims = new Map(expired.book.claims);
  claims.delete(claimId);
  return { book: { hostId: book.hostId, claims }, ended: [...expired.ended, released], claim: released };
}

/** Whether the caller may renew, release or retry this claim: its owner, or a caller that acts for anyone. */
function mayActOn(claim: Claim, caller: ClaimCaller): boolean {
  return caller.actsForAnyone || claim.owner === '' || claim.owner === caller.identity;
}

/** A live claim the caller may act on: NOT_FOUND when not live, PERMISSION_DENIED when another's. */
function ownClaim(book: ClaimBook, claimId: string, caller: ClaimCaller, verb: 'renew' | 'release'): Claim {
  const claim = book.claims.get(claimId);
  if (!claim) throw notFound(claimName(book.hostId, claimId));
  if (!mayActOn(claim, caller)) {
    const name = claimName(book.hostId, claimId);
    throw new DomainError('PERMISSION_DENIED', `${caller.identity} may not ${verb} ${name}: it is held by ${claim.owner} (only its owner or an admin may)`, {
      metadata: { resource: name, owner: claim.owner },
    });
  }
  return claim;
}

/**
 * Ends every lapsed claim, dated at its expiry (at `nowMs` when the wall clock was stepped back
 * since: a claim never ends after the moment that ends it).
 */
export function expireClaims(book: ClaimBook, at: number | ClaimTime): Transition {
  const { nowMs, lapsed } = timeOf(at);
  let claims: Map<string, Claim> | undefined;
  const ended: Claim[] = [];
  for (const claim of book.claims.values()) {
    if (!lapsed(claim)) continue;
    claims ??= new Map(book.claims);
    claims.delete(claim.claimId);
    ended.push({ ...claim, state: 'CLAIM_STATE_EXPIRED', endTimeMs: Math.min(claim.expireTimeMs, nowMs) });
  }
  return { book: claims ? { hostId: book.hostId, claims } : book, ended };
}

export interface SyncOutcome extends Transition {
  /** Claims that lost some units to the sync but still hold others (still ACTIVE). */
  readonly updated: readonly Claim[];
}

/**
 * Applies a host sync to its claims. When the migration a claim was made for has happened,
 * the host agent reports fewer units available: the instance exists now and counts in
 * `available`, so the claim must stop counting it too. A sync that reports d fewer units of a
 * device (a device that is gone reports 0) therefore uses up d claimed units of that device,
 * oldest claim first, and always enough that claims hold no more than the device has; then,
 * per shared budget, oldest first, enough claimed units that claims draw no more than the
 * budget has available. A claim with no units left ends as CONSUMED. A unit is never counted
 * twice, by the host's figure and by a claim, and claimed units never exceed capacity.
 */
export function applySync(book: ClaimBook, before: HostCapacity, after: HostCapacity, at: number | ClaimTime): SyncOutcome {
  // A lapsed claim holds no unit, even before its expiry is written: it ends as EXPIRED here,
  // as every transition expires in passing, so the sync uses up the live claims' units only.
  const { nowMs } = timeOf(at);
  const expired = expireClaims(book, at);
  const live = expired.book;
  // Mutable working copy: remaining units per claim and device, in the book's (creation) order,
  // and the units claims hold per device, kept as units are taken (each step below is one pass
  // over the claims: at most 256 claims of 32 devices, claims.ts's limits).
  const work = [...live.claims.values()].map((claim) => ({ claim, remaining: claim.devices.map((d) => d.remaining) }));
  const claimed = new Map<string, number>();
  for (const w of work) w.claim.devices.forEach((d, i) => claimed.set(d.deviceId, (claimed.get(d.deviceId) ?? 0) + w.remaining[i]));
  /** Takes up to `units` claimed units of the device, oldest claim first. */
  const consume = (deviceId: string, units: number): void => {
    let left = units;
    for (const w of work) {
      if (left === 0) break;
      w.claim.devices.forEach((d, i) => {
        if (d.deviceId !== deviceId || left === 0) return;
        const take = Math.min(left, w.remaining[i]);
        w.remaining[i] -= take;
        left -= take;
      });
    }
    claimed.set(deviceId, claimed.get(deviceId)! - (units - left));
  };

  for (const [deviceId, held] of claimed) {
    const unitsBefore = before.devices.has(deviceId) ? unitsOf(before.devices.get(deviceId)) : 0;
    const unitsAfter = after.devices.has(deviceId) ? unitsOf(after.devices.get(deviceId)) : 0;
    const take = Math.min(held, Math.max(unitsBefore - unitsAfter, held - unitsAfter, 0));
    if (take > 0) consume(deviceId, take);
  }
  for (const budget of after.budgets) {
    let draw = 0;
    for (const [deviceId, perUnit] of budget.consumption) draw += (claimed.get(deviceId) ?? 0) * perUnit;
    // From the oldest claim drawing on the budget, device by device in the claim's order, as
    // many units as the excess needs, until it fits.
    for (const w of work) {
      if (draw <= budget.available) break;
      w.claim.devices.forEach((d, i) => {
        const perUnit = budget.consumption.get(d.deviceId);
        if (draw <= budget.available || perUnit === undefined || w.remaining[i] === 0) return;
        const take = Math.min(w.remaining[i], Math.ceil((draw - budget.available) / perUnit));
        w.remaining[i] -= take;
        claimed.set(d.deviceId, claimed.get(d.deviceId)! - take);
        draw -= take * perUnit;
      });
    }
  }

  const claims = new Map<string, Claim>();
  const updated: Claim[] = [];
  const ended: Claim[] = [...expired.ended];
  for (const { claim, remaining } of work) {
    if (claim.devices.every((d, i) => d.remaining === remaining[i])) {
      claims.set(claim.claimId, claim);
      continue;
    }
    const devices = claim.devices.map((d, i) => ({ ...d, remaining: remaining[i] }));
    if (remaining.every((r) => r === 0)) {
      ended.push({ ...claim, devices, state: 'CLAIM_STATE_CONSUMED', endTimeMs: nowMs });
    } else {
      const next = { ...claim, devices };
      claims.set(claim.claimId, next);
      updated.push(next);
    }
  }
  if (updated.length === 0 && ended.length === 0) return { book, ended, updated };
  return { book: { hostId: book.hostId, claims }, ended, updated };
}
