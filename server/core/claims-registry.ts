// Claims in the registry: each host's live claims (a ClaimBook of claims.ts), how a claim write
// is planned inside the group commit, how a host sync uses claims up, and claim expiry on the
// core's clock. The state machine and the accounting are claims.ts (pure); this file gives
// them revisions, history entries and a place in the write pipeline, so that:
//   - a CreateClaim is decided in the group commit against the host's book as of the batch
//     (one write per host per batch), so two concurrent creates never grant the same unit;
//   - every created, renewed, released, expired or consumed claim is a history entry (chained,
//     with actor and reason) and an event on the change feed;
//   - claims are persisted with the batch and loaded at start-up in creation order;
//   - a claim lapses one TTL after its creation or renewal on the clock's elapsed time, which
//     is never stepped (as leases do, leases.ts): its expiry is reported, persisted and dated
//     on the wall clock, which NTP or a resumed VM may step, and a step forward must not expire
//     every claim at once (freeing capacity a scheduler holds), nor a step back keep claims
//     alive past their TTL. An expiry read from elsewhere (the store at start-up, another
//     replica's write) counts for at most one TTL from when it is read.
//
// Owns: the books by host, each claim's due time on the elapsed clock, the expiry timer and
// the expiry writes in flight. May call:
// claims.ts, live state (reads), the group commit (to queue expiry writes), the clock.

import {
  applySync,
  createClaim,
  emptyBook,
  expireClaims,
  releaseClaim,
  renewClaim,
  type Claim,
  type ClaimBook,
  type ClaimCaller,
  type ClaimSpec,
  type ClaimTime,
  type HostCapacity,
  type HostUsage,
  deviceFreeUnits,
  hostUsage,
  NO_USAGE,
} from './claims.ts';
import type { Clock } from './clock.ts';
import type { Capacity } from './model.ts';
import { notFound } from './errors.ts';
import type { LiveDevice, LiveHost, LiveState } from './live-state.ts';
import { claimEntryId, type ClaimRecord, type HistoryRecord } from './store.ts';
import type { Plan, WriteOrigin, WriteRequest } from './write-planning.ts';
import { claimName } from './claims.ts';

/** How often lapsed claims are looked for (as leases: expiry exact within this). */
export const CLAIM_CHECK_INTERVAL_MS = 100;

export type ClaimOp =
  | { readonly type: 'create'; readonly spec: ClaimSpec; readonly caller: ClaimCaller }
  | { readonly type: 'renew'; readonly claimId: string; readonly ttlMs: number | undefined; readonly caller: ClaimCaller }
  | { readonly type: 'release'; readonly claimId: string; readonly caller: ClaimCaller }
  | { readonly type: 'expire' };

export type ClaimWrite = Extract<WriteRequest, { kind: 'claim' }>;

/** What a plan does to its host's claims. */
export interface ClaimPlan {
  readonly book: ClaimBook;
  readonly upserts: readonly ClaimRecord[];
  readonly deletes: readonly { readonly hostId: string; readonly claimId: string }[];
  /** The claim the request was about (create, renew, release). */
  readonly claim?: ClaimRecord;
  readonly created?: boolean;
}

export interface ClaimResult {
  readonly revision: number;
  readonly claim: ClaimRecord;
  readonly created: boolean;
  readonly headHash: string;
}

export interface ClaimListQuery {
  readonly hostId: string | undefined;
  readonly claimId: string | undefined;
  /** Exclusive cursor (host id, claim id). */
  readonly after: { readonly hostId: string; readonly claimId: string } | undefined;
  readonly limit: number;
}

/** Queues claim writes (the group commit). */
export interface ClaimWriter {
  claimWrite(write: ClaimWrite): Promise<unknown>;
}

export const EXPIRED_ORIGIN: WriteOrigin = { actor: 'devcompat', reason: 'claim expired' };

export class Claims {
  private readonly books = new Map<string, ClaimBook>();
  /** The ids of the hosts with claims, sorted; undefined after a host gained its first claim or lost its last. */
  private sortedHosts: string[] | undefined;
  private readonly expiring = new Set<string>();
  /**
   * When each claim the books hold lapses, on the clock's elapsed time. Claims are immutable:
   * a change makes a new object, which gets its own due time (setBook: a renewal's is new, one
   * a sync used units of keeps the one it had).
   */
  private readonly dues = new WeakMap<Claim, number>();
  /** Whether a claim has lapsed: its due time has passed on the elapsed clock. */
  private readonly lapsedNow = (claim: Claim): boolean => this.dueOf(claim) <= this.clock.elapsed();
  private stopTimer: (() => void) | undefined;
  private writer: ClaimWriter | undefined;

  constructor(
    private readonly state: LiveState,
    private readonly clock: Clock,
    loaded: readonly ClaimRecord[],
  ) {
    for (const claim of loaded) {
      const book = this.books.get(claim.hostId) ?? emptyBook(claim.hostId);
      const claims = new Map(book.claims);
      claims.set(claim.claimId, claim);
      this.books.set(claim.hostId, { hostId: claim.hostId, claims });
      this.dueOf(claim);
    }
  }

  /**
   * A claim's due time on the elapsed clock, set when the claim is first seen here: what is
   * left of its wall-clock expiry then, at most its TTL (a claim created or renewed here is
   * seen as its write is applied, with about its whole TTL left).
   */
  private dueOf(claim: Claim): number {
    let due = this.dues.get(claim);
    if (due === undefined) {
      due = this.clock.elapsed() + Math.min(claim.expireTimeMs - this.clock.now(), claim.ttlMs);
      this.dues.set(claim, due);
    }
    return due;
  }

  /** The time a transition happens at: now on the wall clock, lapses by due time. */
  private at(nowMs: number): ClaimTime {
    return { nowMs, lapsed: this.lapsedNow };
  }

  /** Whether a claim is live now (one past its due time is not, even before its expiry is recorded). */
  private live(claim: Claim): boolean {
    return !this.lapsedNow(claim);
  }

  connect(writer: ClaimWriter): void {
    this.writer = writer;
  }

  /** Expires lapsed claims now (those that lapsed while the server was down), then every 100 ms. */
  start(): void {
    this.expireLapsed();
    this.stopTimer = this.clock.every(CLAIM_CHECK_INTERVAL_MS, () => this.expireLapsed());
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  private expireLapsed(): void {
    if (!this.writer) return;
    for (const [hostId, book] of this.books) {
      if (this.expiring.has(hostId)) continue;
      let lapsed = false;
      for (const claim of book.claims.values()) if ((lapsed = this.lapsedNow(claim))) break;
      if (!lapsed) continue;
      this.expiring.add(hostId);
      this.writer
        .claimWrite({ kind: 'claim', hostId, op: { type: 'expire' }, origin: EXPIRED_ORIGIN })
        .catch(() => undefined)
        .finally(() => this.expiring.delete(hostId));
    }
  }

  // Reads ------------------------------------------------------------------------------

  /** Claims held, lapsed ones not yet recorded as expired included (for metrics; O(hosts with claims)). */
  get size(): number {
    let count = 0;
    for (const book of this.books.values()) count += book.claims.size;
    return count;
  }

  /** A live claim (one past its expiry is not live, even before its expiry is recorded). */
  get(hostId: string, claimId: string): ClaimRecord {
    const claim = this.books.get(hostId)?.claims.get(claimId);
    if (!claim || !this.live(claim)) throw notFound(claimName(hostId, claimId));
    return claim as ClaimRecord;
  }

  list(query: ClaimListQuery): ClaimRecord[] {
    let hostIds: readonly string[];
    let from = 0;
    if (query.hostId !== undefined) hostIds = [query.hostId];
    else {
      // Sorted once for as long as the set of hosts with claims stays the same: a page starts
      // at its cursor's host, found by bisection, instead of sorting every host per page.
      hostIds = this.sortedHosts ??= [...this.books.keys()].sort();
      if (query.after) from = firstAtOrAfter(hostIds, query.after.hostId);
    }
    const out: ClaimRecord[] = [];
    for (let i = from; i < hostIds.length; i++) {
      const hostId = hostIds[i];
      // Only when one host is listed: the bisection already started past earlier hosts.
      if (query.after && hostId < query.after.hostId) continue;
      const book = this.books.get(hostId);
      if (!book) continue;
      const ids = [...book.claims.keys()].sort();
      for (const claimId of ids) {
        if (query.after && hostId === query.after.hostId && claimId <= query.after.claimId) continue;
        if (query.claimId !== undefined && claimId !== query.claimId) continue;
        const claim = book.claims.get(claimId)!;
        if (!this.live(claim)) continue;
        out.push(claim as ClaimRecord);
        if (out.length >= query.limit) return out;
      }
    }
    return out;
  }

  /** Units of a device that live claims hold now. */
  claimedOn(hostId: string, deviceId: string): number {
    const book = this.books.get(hostId);
    if (!book) return 0;
    let sum = 0;
    for (const claim of book.claims.values()) {
      if (!this.live(claim)) continue;
      for (const d of claim.devices) if (d.deviceId === deviceId) sum += d.remaining;
    }
    return sum;
  }

  /** What live claims hold on the host now, per device and per shared budget. */
  usageOn(host: LiveHost): HostUsage {
    const book = this.books.get(host.record.hostId);
    if (!book) return NO_USAGE;
    return hostUsage(expireClaims(book, this.at(this.clock.now())).book, host.record.budgets ?? []);
  }

  /** A device's free units now: claims counted, the shared budgets it draws on applied. */
  freeOn(device: LiveDevice): number {
    const { host } = device;
    const usage = this.usageOn(host);
    return deviceFreeUnits(device.record.capacity, host.record.budgets ?? [], usage, device.record.deviceId);
  }

  /** The host's live claims as of now (lapsed ones dropped), for placements. */
  bookOf(hostId: string): ClaimBook {
    const book = this.books.get(hostId) ?? emptyBook(hostId);
    return expireClaims(book, this.at(this.clock.now())).book;
  }

  // Planning ---------------------------------------------------------------------------

  /** Plans a claim write against the host's book; throws the request's domain error. */
  plan(write: ClaimWrite, revision: number, time: number): Plan {
    const host = this.state.findHost(write.hostId);
    if (!host) throw notFound(`hosts/${write.hostId}`);
    const book = this.books.get(write.hostId) ?? emptyBook(write.hostId);
    const { op } = write;
    let next: ClaimBook;
    let ended: readonly Claim[];
    let subject: Claim | undefined;
    let created = false;
    let kind: 'CREATED' | 'UPDATED' | undefined;
    if (op.type === 'create') {
      const outcome = createClaim(book, capacityOf(host), op.spec, op.caller, this.at(time));
      ({ book: next, ended } = outcome);
      subject = outcome.claim;
      created = outcome.created;
      if (created) kind = 'CREATED';
    } else if (op.type === 'renew') {
      const outcome = renewClaim(book, op.claimId, op.ttlMs, op.caller, this.at(time));
      ({ book: next, ended } = outcome);
      subject = outcome.claim;
      kind = 'UPDATED';
    } else if (op.type === 'release') {
      const outcome = releaseClaim(book, op.claimId, op.caller, this.at(time));
      ({ book: next, ended } = outcome);
      subject = outcome.claim;
    } else {
      ({ book: next, ended } = expireClaims(book, this.at(time)));
    }

    const history: HistoryRecord[] = [];
    const upserts: ClaimRecord[] = [];
    const deletes: { hostId: string; claimId: string }[] = [];
    const entry = (claimId: string, change: HistoryRecord['change'], before: ClaimRecord | undefined, after: ClaimRecord | undefined) =>
      history.push({
        revision,
        seq: history.length,
        time,
        hostId: write.hostId,
        deviceId: claimEntryId(claimId),
        change,
        // A claim that lapsed is ended by the server, whichever write noticed it.
        ...(after?.state === 'CLAIM_STATE_EXPIRED' ? EXPIRED_ORIGIN : write.origin),
        before: before && { kind: 'claim', claim: before },
        after: after && { kind: 'claim', claim: after },
      });
    for (const claim of ended) {
      const before = book.claims.get(claim.claimId) as ClaimRecord;
      const after = { ...(claim as ClaimRecord), revision } as ClaimRecord;
      entry(claim.claimId, 'DELETED', before, after);
      deletes.push({ hostId: write.hostId, claimId: claim.claimId });
      if (subject === claim) subject = after;
    }
    let record: ClaimRecord | undefined;
    if (kind && subject) {
      record = { ...(subject as ClaimRecord), revision, ...(kind === 'CREATED' && { createRevision: revision }) };
      const claims = new Map(next.claims);
      claims.set(record.claimId, record);
      next = { hostId: next.hostId, claims };
      entry(record.claimId, kind, kind === 'CREATED' ? undefined : (book.claims.get(record.claimId) as ClaimRecord), record);
      upserts.push(record);
    }
    const claim = record ?? (subject as ClaimRecord | undefined);
    const claims: ClaimPlan = { book: next, upserts, deletes, claim, created };
    const base = { write, hostId: write.hostId, host: host.record, upserts: [], deletes: [], created: 0, updated: 0, claims };
    if (history.length === 0) return { ...base, revision: undefined, history: [] } as Plan;
    return { ...base, revision, history } as Plan;
  }

  /**
   * Adds to a sync's plan the claims it uses up (docs/model.md, "Claims"): a sync that reports
   * fewer units of a device uses up that many claimed units of it, oldest claim first. Called
   * before the plan is committed, against the host as it was before the sync.
   */
  afterSync(plan: Plan, time: number): Plan {
    if (plan.write.kind !== 'sync' || plan.revision === undefined) return plan;
    const book = this.books.get(plan.hostId);
    const host = this.state.findHost(plan.hostId);
    if (!book || book.claims.size === 0 || !host) return plan;
    const after: HostCapacity = {
      devices: new Map(plan.write.command.devices.map((spec) => [spec.deviceId, spec.capacity])),
      budgets: plan.write.command.budgets,
    };
    const outcome = applySync(book, capacityOf(host), after, this.at(time));
    if (outcome.ended.length === 0 && outcome.updated.length === 0) return plan;
    const revision = plan.revision;
    const history = [...plan.history];
    const upserts: ClaimRecord[] = [];
    const deletes: { hostId: string; claimId: string }[] = [];
    const { actor, reason } = plan.write.origin;
    const push = (claimId: string, change: HistoryRecord['change'], before: ClaimRecord, after: ClaimRecord) =>
      history.push({
        revision,
        seq: history.length,
        time,
        hostId: plan.hostId,
        deviceId: claimEntryId(claimId),
        change,
        actor,
        reason,
        before: { kind: 'claim', claim: before },
        after: { kind: 'claim', claim: after },
      });
    const claims = new Map(outcome.book.claims);
    for (const claim of outcome.updated) {
      const record = { ...(claim as ClaimRecord), revision };
      claims.set(claim.claimId, record);
      upserts.push(record);
      push(claim.claimId, 'UPDATED', book.claims.get(claim.claimId) as ClaimRecord, record);
    }
    for (const claim of outcome.ended) {
      push(claim.claimId, 'DELETED', book.claims.get(claim.claimId) as ClaimRecord, { ...(claim as ClaimRecord), revision });
      deletes.push({ hostId: plan.hostId, claimId: claim.claimId });
    }
    return { ...plan, history, claims: { book: { hostId: plan.hostId, claims }, upserts, deletes } };
  }

  /** Claims another server created, changed or ended (follower.ts). */
  followed(
    change: { readonly hostId: string; readonly claimUpserts: readonly ClaimRecord[]; readonly claimEnds: readonly string[] },
    removed: LiveHost | undefined,
  ): void {
    if (removed) {
      this.setBook(change.hostId, undefined);
      return;
    }
    if (change.claimUpserts.length === 0 && change.claimEnds.length === 0) return;
    const claims = new Map(this.books.get(change.hostId)?.claims ?? []);
    for (const claimId of change.claimEnds) claims.delete(claimId);
    for (const claim of change.claimUpserts) claims.set(claim.claimId, claim);
    this.setBook(change.hostId, { hostId: change.hostId, claims });
  }

  /** A committed plan's effect on the books (the group commit's observer calls it). */
  applied(plan: Plan, removed: LiveHost | undefined): void {
    if (removed) this.setBook(plan.hostId, undefined);
    else if (plan.claims) this.setBook(plan.hostId, plan.claims.book);
  }

  /**
   * Keeps a host's book (none when it holds no claim), its claims' due times, and the sorted
   * host ids in step. A claim changed without a new expiry (a sync used units up) keeps the due
   * time of the claim it replaces; a new or renewed one gets its own.
   */
  private setBook(hostId: string, book: ClaimBook | undefined): void {
    const previous = this.books.get(hostId);
    if (book) {
      for (const claim of book.claims.values()) {
        if (this.dues.has(claim)) continue;
        const before = previous?.claims.get(claim.claimId);
        // Used up by a sync: the same expiry, fewer units. A renewal keeps the units, and may
        // keep the expiry too (after the wall clock stepped back, revision times stand still
        // until it catches up, so a renewal can state the expiry it had): it gets a new due.
        const consumed = before !== undefined && before.expireTimeMs === claim.expireTimeMs && !sameUnits(before, claim);
        const due = consumed ? this.dues.get(before) : undefined;
        if (due !== undefined) this.dues.set(claim, due);
        else this.dueOf(claim);
      }
    }
    const had = previous !== undefined;
    if (book && book.claims.size > 0) this.books.set(hostId, book);
    else this.books.delete(hostId);
    if (had !== this.books.has(hostId)) this.sortedHosts = undefined;
  }
}

/** Whether two versions of a claim hold the same units of the same devices. */
function sameUnits(a: Claim, b: Claim): boolean {
  return a.devices.length === b.devices.length && a.devices.every((d, i) => d.deviceId === b.devices[i].deviceId && d.remaining === b.devices[i].remaining);
}

/** What a live host reported, as claims need it: each device's capacity (absent = one unit) and its budgets. */
export function capacityOf(host: LiveHost): HostCapacity {
  // A loop, not spread-and-map: FindPlacements calls this once per candidate host.
  const devices = new Map<string, Capacity | undefined>();
  for (const [id, device] of host.devices) devices.set(id, device.record.capacity);
  return { devices, budgets: host.record.budgets ?? [] };
}

/** The index of the first id at or after `id` in sorted `ids`. */
function firstAtOrAfter(ids: readonly string[], id: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ids[mid] < id) low = mid + 1;
    else high = mid;
  }
  return low;
}
