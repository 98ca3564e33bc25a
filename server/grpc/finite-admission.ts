// Admission of finite server streams (FindTargets, FindPlacements): who may start a search when,
// and whose unread search gives way when the server is at its limit. A search holds its computed
// answer until its client has read it, so the number in progress is bounded server-wide; and so
// that one client cannot take every place, it is bounded per client too (the authenticated
// identity under mutual TLS, else the connection). At the server-wide limit a search from
// another client evicts at once the longest-stalled unread search of the client holding the
// most places (when that client holds more than the newcomer): a client that does not read can
// delay nobody else's search. The policy is here, apart from the gRPC plumbing (streams.ts) that
// cuts the evicted stream off.

import { overloaded } from '../core/errors.ts';

/** Finite streams in progress at once, server-wide: a search is computed synchronously, so more in parallel add no throughput, only answers held. */
export const DEFAULT_MAX_FINITE_STREAMS = 16;
/** Finite streams one client (identity, or connection without TLS) may have in progress at once: a quarter of the server's places. */
export const DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT = 4;
/** A finite stream whose client reads nothing for this long is cut off. */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
/**
 * At the server-wide limit, when no client holds more places than the newcomer, a search whose
 * client has read nothing for this long may still be evicted for it.
 */
export const DEFAULT_EVICT_UNREAD_AFTER_MS = 5000;
/**
 * At the server-wide limit, with nothing that may give way yet (every place held by a search
 * still being written, not yet stalled: the first moments of a burst), a search waits this long
 * for a place or for a stalled search to evict before it is refused.
 */
export const DEFAULT_ADMISSION_WAIT_MS = 1000;
/** How often a waiting search looks again, besides when a place is released. */
const ADMISSION_RETRY_MS = 25;

export interface FiniteStreamLimits {
  readonly maxFiniteStreams: number;
  readonly maxFiniteStreamsPerClient: number;
  /** 0: no timeout. */
  readonly sendTimeoutMs: number;
  readonly evictUnreadAfterMs: number;
  /** At the server-wide limit, how long a search may wait for room before it is refused (default DEFAULT_ADMISSION_WAIT_MS; 0: refused at once). */
  readonly admissionWaitMs?: number;
}

export interface FiniteStreamStats {
  readonly inProgress: number;
  /** In progress and waiting for a client that reads nothing. */
  readonly stalled: number;
  /** Clients holding at least one search in progress. */
  readonly clients: number;
  readonly evictions: number;
  readonly refusedPerClient: number;
  readonly refusedServerWide: number;
}

/**
 * A finite stream's place among those in progress. While its client reads nothing it is
 * stalled (`stalledSince`); an evicted slot's `evict` ends its wait for the client.
 */
export class FiniteSlot {
  stalledSince: number | undefined;
  /** Set while stalled: ends the wait for `drain` with eviction. */
  evict: (() => void) | undefined;

  constructor(
    readonly client: string,
    readonly release: () => void,
  ) {}
}

export class FiniteAdmission {
  /** Slots in progress, by client. */
  private readonly byClient = new Map<string, Set<FiniteSlot>>();
  private total = 0;
  /** Searches waiting for room (admitWaiting): each looks again when a place is released. */
  private readonly wakers = new Set<() => void>();
  /** Since start (for metrics and tests): searches evicted to make room for another client's; refused at a client's limit; refused at the server's. */
  evictions = 0;
  refusedPerClient = 0;
  refusedServerWide = 0;

  /** Told when a search is admitted, and when the last one in progress has gone (burst-reclaim.ts). */
  onAdmit: (() => void) | undefined;
  onIdle: ((trouble: number) => void) | undefined;

  constructor(
    private readonly limits: FiniteStreamLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.total;
  }

  /** Searches in progress, and how many of those wait for a client that is not reading. */
  stats(): FiniteStreamStats {
    let stalled = 0;
    for (const slots of this.byClient.values()) for (const slot of slots) if (slot.stalledSince !== undefined) stalled++;
    return {
      inProgress: this.total,
      stalled,
      clients: this.byClient.size,
      evictions: this.evictions,
      refusedPerClient: this.refusedPerClient,
      refusedServerWide: this.refusedServerWide,
    };
  }

  /**
   * Admits a search from `client`, or throws OVERLOADED before any work is done:
   * 1. a client already at `maxFiniteStreamsPerClient` is refused (it may be the one not reading);
   * 2. below `maxFiniteStreams` server-wide, the search is admitted;
   * 3. at it, the longest-stalled search of the client holding the most places, if that client
   *    holds more than this one and this one has no stalled search of its own, is evicted at
   *    once; failing that, any search stalled for at least `evictUnreadAfterMs`; failing that,
   *    the search is refused.
   */
  admit(client: string): FiniteSlot {
    const admitted = this.tryAdmit(client);
    if (admitted instanceof FiniteSlot) return admitted;
    throw this.refusal(client, admitted);
  }

  /**
   * As admit, but a search refused only for the server-wide limit (its client is under its own)
   * waits up to `admissionWaitMs` for room, looking again when a place is released and every
   * ADMISSION_RETRY_MS (a search may stall meanwhile and become evictable); it stops waiting,
   * refused, when `cancelled()` says its client has gone. A search that waits holds no answer.
   */
  async admitWaiting(client: string, cancelled: () => boolean): Promise<FiniteSlot> {
    const waitMs = this.limits.admissionWaitMs ?? DEFAULT_ADMISSION_WAIT_MS;
    let expired = waitMs <= 0;
    const deadline = expired ? undefined : setTimeout(() => (expired = true), waitMs);
    try {
      for (;;) {
        const admitted = this.tryAdmit(client);
        if (admitted instanceof FiniteSlot) return admitted;
        if (admitted === 'client' || expired || cancelled()) throw this.refusal(client, admitted, waitMs);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, ADMISSION_RETRY_MS);
          this.wakers.add(wake);
        });
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  private refusal(client: string, reason: 'client' | 'server', waitedMs = 0): Error {
    if (reason === 'client') {
      this.refusedPerClient++;
      const own = this.byClient.get(client)?.size ?? 0;
      return overloaded(
        `this client has ${own} searches in progress, the server's limit per client (--max-finite-streams-per-client): read them, or retry later`,
      );
    }
    this.refusedServerWide++;
    const waited = waitedMs > 0 ? `, not within ${waitedMs} ms (--finite-admission-wait) either` : '';
    return overloaded(`${this.total} searches are in progress, the server's limit (--max-finite-streams), and none may give way (each is being read, or held by a client with no more searches than this one)${waited}: retry later`);
  }

  private tryAdmit(client: string): FiniteSlot | 'client' | 'server' {
    const own = this.byClient.get(client)?.size ?? 0;
    if (own >= this.limits.maxFiniteStreamsPerClient) return 'client';
    if (this.total >= this.limits.maxFiniteStreams) {
      const victim = this.victimFor(client, own);
      if (!victim) return 'server';
      this.evictions++;
      victim.evict?.();
      victim.release();
    }
    const slot: FiniteSlot = new FiniteSlot(client, () => this.remove(slot));
    let slots = this.byClient.get(client);
    if (!slots) this.byClient.set(client, (slots = new Set()));
    slots.add(slot);
    this.total++;
    this.onAdmit?.();
    return slot;
  }

  private victimFor(client: string, own: number): FiniteSlot | undefined {
    // A newcomer that is itself leaving a search unread is no reading client: it gets no
    // immediate eviction (two careless connections would otherwise evict each other's searches
    // for ever, each eviction costing a search computed again).
    const ownSlots = this.byClient.get(client);
    const readsItsOwn = !ownSlots || longestStalled(ownSlots, Infinity) === undefined;
    let victim: FiniteSlot | undefined;
    let victimHolds = own;
    for (const [holder, slots] of this.byClient) {
      if (!readsItsOwn || holder === client || slots.size < victimHolds || (slots.size === victimHolds && victim === undefined)) continue;
      const stalled = longestStalled(slots, Infinity);
      if (!stalled) continue;
      if (slots.size > victimHolds || stalled.stalledSince! < victim!.stalledSince!) {
        victim = stalled;
        victimHolds = slots.size;
      }
    }
    if (victim) return victim;
    const evictable = this.now() - this.limits.evictUnreadAfterMs;
    let oldest: FiniteSlot | undefined;
    for (const slots of this.byClient.values()) {
      const stalled = longestStalled(slots, evictable);
      if (stalled && (oldest === undefined || stalled.stalledSince! < oldest.stalledSince!)) oldest = stalled;
    }
    return oldest;
  }

  private remove(slot: FiniteSlot): void {
    const slots = this.byClient.get(slot.client);
    if (!slots?.delete(slot)) return;
    this.total--;
    if (slots.size === 0) this.byClient.delete(slot.client);
    for (const wake of [...this.wakers]) wake();
    if (this.total === 0) this.onIdle?.(this.evictions + this.refusedPerClient + this.refusedServerWide);
  }
}

/** The slot of `slots` stalled longest, if stalled since `notAfter` or before. */
function longestStalled(slots: Iterable<FiniteSlot>, notAfter: number): FiniteSlot | undefined {
  let oldest: FiniteSlot | undefined;
  for (const slot of slots) {
    const since = slot.stalledSince;
    if (since !== undefined && since <= notAfter && (oldest === undefined || since < oldest.stalledSince!)) oldest = slot;
  }
  return oldest;
}
