// The agent's run loop: look at the host every interval, sync it when (and only when) what the
// agent sees changed, keep the host's lease alive in between (LeaseKeeper), re-sync at once when
// the registry says the host is unknown (deleted, or a registry restored from a backup), and
// on stop optionally mark the host draining. A drain is cleared later only if this agent set it
// (the last change of the mark among the host's changes, read through Watch, is this agent's,
// with its reason), never an operator's.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DevcompatError, type DevcompatClient, type LeaseKeeper, type SyncHostRequest } from '../client/client.ts';
import { backoffMs } from '../client/errors.ts';
import { takeInventory, type Inventory, type InventoryOptions } from './inventory.ts';
import { withoutRefused, type RefusedDevice } from './refused-devices.ts';

/** The reason recorded with a drain set on exit: how the agent recognizes its own drain. */
export const DRAIN_REASON = 'devcompat agent: drain on exit';
const UNDRAIN_REASON = 'devcompat agent: back after its own drain on exit';

export interface LoopOptions {
  readonly host: string;
  readonly intervalMs: number;
  readonly labels: Record<string, string>;
  readonly drainOnExit: boolean;
  /** Describe and sync once, then return. */
  readonly once: boolean;
  readonly inventory: InventoryOptions;
  readonly client: DevcompatClient;
  /** The actor this agent writes as: its own drains are recognized by it. */
  readonly actor: string;
  /**
   * Under mutual TLS the registry records the certificate's identity as the actor, not
   * `actor`; and only this host's agent certificate (or an admin) may write the host. Its own
   * drain is then recognized by its reason alone.
   */
  readonly mutualTls?: boolean;
  readonly log: Logger;
}

/**
 * Every this many passes the host is sent even when nothing changed on it: a registry restored
 * from a backup that still holds the host (so its keepalives go on) but an older picture of it
 * is set right within that many intervals (10 minutes at the default 30 s). An unchanged sync
 * writes nothing in the registry.
 */
export const FULL_SYNC_EVERY_PASSES = 20;

/**
 * After the lease stream failed for good (a code other than UNAVAILABLE: RESOURCE_EXHAUSTED,
 * INTERNAL, a proxy's CANCELLED), the lease is held again on a new stream after this backoff,
 * not at the next pass (the lease would often lapse first): doubling from 1 s, with jitter, to
 * at most 10 s or a third of the lease TTL, whichever is less, so that a registry that keeps
 * refusing gets one stream per agent every few seconds and one that accepts again renews the
 * lease before it lapses.
 */
const REHOLD_INITIAL_BACKOFF_MS = 1000;
const REHOLD_MAX_BACKOFF_MS = 10_000;

/** Logged when the in-use scan could not read some processes' open files (vfio-in-use.ts). */
const IN_USE_INCOMPLETE =
  'in-use detection incomplete: the open files of some processes could not be read, so a device they hold looks free and free capacity may be overstated; run the agent as root, or with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE';

/** How a run ended: 0 synced with every device described, 1 synced with devices skipped, 2 the sync failed. */
export type RunOutcome = 0 | 1 | 2;

function sameAsLastTime(previous: string[], next: string[]): boolean {
  return previous.length === next.length && previous.every((entry, index) => entry === next[index]);
}

export class HostAgent {
  private readonly name: string;
  private lastSynced: string | undefined;
  /** Whether the registry refused some devices of the last sync (they stay out until the host changes). */
  private refusedAtLastSync = false;
  /** Passes since the last sync that was answered (FULL_SYNC_EVERY_PASSES). */
  private passesSinceSync = 0;
  private resyncNow = false;
  private wake: (() => void) | undefined;
  private keeper: LeaseKeeper | undefined;
  /** Lease streams that failed for good since the lease was last renewed (the backoff's attempt). */
  private leaseFailures = 0;
  /** The lease TTL the registry last told (ms); the client's default until it has. */
  private leaseTtlMs: number | undefined;
  private reholdTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private reportedSkips: string[] = [];
  private reportedProfileErrors: string[] = [];
  /** Whether the last pass's in-use scan was incomplete: warned once when it becomes so, not at every pass. */
  private reportedIncompleteScan = false;

  constructor(private readonly options: LoopOptions) {
    this.name = `hosts/${options.host}`;
  }

  /** Runs until `signal` aborts (or once, with `once`); resolves with the outcome of the last pass. */
  async run(signal: AbortSignal): Promise<RunOutcome> {
    const { log } = this.options;
    log.info({ interval_ms: this.options.intervalMs, once: this.options.once }, 'agent started');
    let outcome: RunOutcome = 2;
    let drainChecked = false;
    try {
      while (!signal.aborted) {
        outcome = await this.pass();
        if (this.options.once) return outcome;
        if (outcome !== 2 && !this.keeper && !this.reholdTimer) this.holdLease();
        // Once the registry has answered (it may be down when the agent starts), and once it
        // could tell: a check that failed is tried again after the next pass.
        if (outcome !== 2 && !drainChecked) drainChecked = await this.clearOwnDrain(signal);
        await this.sleep(signal, outcome === 2);
      }
      return outcome;
    } finally {
      if (!this.options.once) await this.stop();
    }
  }

  /** One look at the host, and a sync if it changed (or the registry lost the host). */
  private async pass(): Promise<RunOutcome> {
    const { log } = this.options;
    let inventory: Inventory;
    const started = performance.now();
    try {
      inventory = await takeInventory(this.options.inventory);
    } catch (error) {
      log.error({ err: error }, 'cannot look at the host');
      return 2;
    }
    const describeMs = Math.round((performance.now() - started) * 100) / 100;
    this.report(inventory);
    const request: SyncHostRequest = {
      name: this.name,
      labels: this.options.labels,
      devices: inventory.devices.map(({ device_id, descriptor, capacity, labels }) => ({ device_id, descriptor, ...(capacity && { capacity }), labels })),
      ...(inventory.budgets.length > 0 && { budgets: inventory.budgets }),
    };
    const key = JSON.stringify(request);
    const skipped = inventory.skipped.length > 0 || inventory.profileErrors.length > 0 ? 1 : 0;
    this.passesSinceSync++;
    if (key === this.lastSynced && !this.resyncNow && this.passesSinceSync < FULL_SYNC_EVERY_PASSES) {
      log.debug({ devices: request.devices.length, describe_ms: describeMs }, 'unchanged');
      return this.refusedAtLastSync ? 1 : skipped;
    }
    this.resyncNow = false;
    try {
      const { response, refused, synced } = await this.syncAccepted(request);
      this.lastSynced = key;
      this.passesSinceSync = 0;
      this.refusedAtLastSync = refused.length > 0;
      log.info(
        {
          revision: response.revision,
          changed: response.changed,
          devices: synced.devices.length,
          ...(refused.length > 0 && { refused: refused.length }),
          ...(inventory.unreadableProcesses > 0 && { unreadable_processes: inventory.unreadableProcesses }),
          created: response.devices_created,
          updated: response.devices_updated,
          deleted: response.devices_deleted,
          describe_ms: describeMs,
        },
        'synced',
      );
      return refused.length > 0 ? 1 : skipped;
    } catch (error) {
      this.lastSynced = undefined;
      const failure = DevcompatError.from(error);
      log.error({ code: failure.codeName, error: failure.message, violations: failure.fieldViolations }, 'sync failed');
      return 2;
    }
  }

  /**
   * Syncs the host, less the devices the registry refuses (refused-devices.ts): each is logged
   * with the registry's reasons, and the rest of the host is registered. The registry names
   * every violation at once, so one more try is enough; a third covers a refusal that only
   * the smaller sync reveals, and a fourth the devices a count past the limit hid (the
   * registry refuses the count before it looks at each device).
   */
  private async syncAccepted(request: SyncHostRequest) {
    const refused: RefusedDevice[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        return { response: await this.options.client.syncHost(request), refused, synced: request };
      } catch (error) {
        const failure = DevcompatError.from(error);
        const trimmed = failure.code === grpc.status.INVALID_ARGUMENT && attempt < 4 ? withoutRefused(request, failure.fieldViolations) : undefined;
        if (!trimmed) throw error;
        const pastLimit = trimmed.refused.filter((device) => device.pastLimit);
        for (const device of trimmed.refused) {
          if (!device.pastLimit) this.options.log.error({ device: device.device_id, violations: device.violations }, 'device refused by the registry');
        }
        if (pastLimit.length > 0) {
          this.options.log.error(
            { left_out: pastLimit.length, first: pastLimit[0].device_id, last: pastLimit.at(-1)!.device_id, reason: pastLimit[0].violations[0] },
            "devices past the registry's limit per host left out: the host is registered with the rest",
          );
        }
        refused.push(...trimmed.refused);
        request = trimmed.request;
      }
    }
  }

  /** Logs skipped devices, profile errors and an incomplete in-use scan when they change, not at every pass. */
  private report(inventory: Inventory): void {
    const skips = inventory.skipped.map((skip) => `${skip.device_id}\u0000${skip.reason}`);
    if (!sameAsLastTime(this.reportedSkips, skips)) {
      for (const skip of inventory.skipped) this.options.log.warn({ device: skip.device_id, profile: skip.profile, reason: skip.reason }, 'device skipped');
      this.reportedSkips = skips;
    }
    const errors = inventory.profileErrors.map((error) => error.message);
    if (!sameAsLastTime(this.reportedProfileErrors, errors)) {
      for (const error of inventory.profileErrors) this.options.log.error({ file: error.file, at: error.at, problem: error.problem }, 'profile error');
      this.reportedProfileErrors = errors;
    }
    // The number of unreadable processes moves with every process another user starts or ends:
    // the warning follows whether there are any, so it is neither repeated nor missed.
    const incomplete = inventory.unreadableProcesses > 0;
    if (incomplete && !this.reportedIncompleteScan) this.options.log.warn({ unreadable_processes: inventory.unreadableProcesses }, IN_USE_INCOMPLETE);
    if (!incomplete && this.reportedIncompleteScan) this.options.log.info('in-use detection complete again');
    this.reportedIncompleteScan = incomplete;
  }

  private holdLease(): void {
    const keeper = this.options.client.keepAlive();
    this.keeper = keeper;
    keeper.on('renewed', (response) => {
      this.leaseFailures = 0;
      if (response.ttl_ms > 0) this.leaseTtlMs = response.ttl_ms;
      this.options.log.debug({ state: response.state, ttl_ms: response.ttl_ms }, 'lease renewed');
    });
    keeper.on('renewFailed', (_host, error) => {
      if (error.code === grpc.status.NOT_FOUND) {
        this.options.log.warn('the registry does not know the host: re-syncing');
        this.resyncNow = true;
        this.wake?.();
      } else this.options.log.warn({ code: error.codeName, error: error.message }, 'lease renewal failed');
    });
    keeper.on('disconnected', (error) => this.options.log.warn({ error: error.message }, 'lease stream interrupted; reconnecting'));
    keeper.on('failed', (error) => {
      if (this.keeper === keeper) this.keeper = undefined;
      void keeper.close();
      if (this.stopping) return;
      this.leaseFailures++;
      const ttlMs = this.leaseTtlMs ?? keeper.ttlMs;
      const maxBackoffMs = Math.max(REHOLD_INITIAL_BACKOFF_MS / 2, Math.min(REHOLD_MAX_BACKOFF_MS, ttlMs / 3));
      const retryInMs = Math.round(backoffMs({ budgetMs: Infinity, initialBackoffMs: Math.min(REHOLD_INITIAL_BACKOFF_MS, maxBackoffMs), maxBackoffMs }, this.leaseFailures));
      this.options.log.error({ code: error.codeName, error: error.message, retry_in_ms: retryInMs }, 'lease stream failed; holding the lease again after a backoff');
      clearTimeout(this.reholdTimer);
      this.reholdTimer = setTimeout(() => {
        this.reholdTimer = undefined;
        if (!this.stopping && !this.keeper) this.holdLease();
      }, retryInMs);
    });
    keeper.hold(this.name);
  }

  /**
   * Waits for the next pass: the interval, or less when the registry says the host is unknown.
   * After a failed pass it never goes round at once (a re-sync asked for while the host cannot
   * be read would spin without yielding, starving the lease and the signal handlers): only a
   * later keepalive's NOT_FOUND, an event, cuts that wait short.
   */
  private sleep(signal: AbortSignal, afterFailure: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.intervalMs);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
      // Stopped meanwhile (a signal during the pass): an aborted signal never fires 'abort' again.
      if (signal.aborted || (this.resyncNow && !afterFailure)) done();
    });
  }

  private async stop(): Promise<void> {
    const { log, client } = this.options;
    this.stopping = true;
    clearTimeout(this.reholdTimer);
    this.reholdTimer = undefined;
    if (this.options.drainOnExit && this.lastSynced !== undefined) {
      try {
        const response = await client.setHostDraining(this.name, true, { reason: DRAIN_REASON });
        log.info({ revision: response.revision, changed: response.changed }, response.changed ? 'drained on exit' : 'already draining (left as it was)');
      } catch (error) {
        log.error({ error: (error as Error).message }, 'cannot drain on exit');
      }
    }
    await this.keeper?.close();
    log.info('agent stopped');
  }

  /**
   * After the first sync: if the host is draining because this agent drained it on exit, clear
   * the mark. The last change of the mark is read from the host's changes, through Watch (which
   * an agent may read; history it may not, under mutual TLS). True once decided.
   */
  private async clearOwnDrain(signal: AbortSignal): Promise<boolean> {
    const { client, log } = this.options;
    try {
      const host = await client.getHost(this.name);
      if (!host.draining) return true;
      const last = await this.lastDrainingChange(BigInt(host.create_revision), BigInt(host.revision), signal);
      // Stopped while reading (a stop signal ends the read at once): nothing decided.
      if (signal.aborted) return false;
      if (!last) {
        log.info('host draining, and its changes do not say who drained it: left draining');
        return true;
      }
      const ours = last.reason === DRAIN_REASON && (last.actor === this.options.actor || this.options.mutualTls === true);
      if (ours) {
        const response = await client.setHostDraining(this.name, false, { reason: UNDRAIN_REASON });
        log.info({ revision: response.revision }, 'cleared its own drain');
      } else {
        log.info({ actor: last.actor, reason: last.reason }, 'host drained by someone else: left draining');
      }
      return true;
    } catch (error) {
      const failure = DevcompatError.from(error);
      if (failure.code === grpc.status.NOT_FOUND) return true;
      log.warn({ code: failure.codeName, error: failure.message }, 'cannot check the draining mark: trying again after the next pass');
      return false;
    }
  }

  /**
   * The last change of the host's draining mark from `from` through `through` (its revision
   * now), by Watch; from the oldest revision kept when history before it was compacted.
   */
  private async lastDrainingChange(from: bigint, through: bigint, signal: AbortSignal): Promise<{ actor: string; reason: string } | undefined> {
    try {
      return await this.watchDrainingChanges(from, through, signal);
    } catch (error) {
      const oldest = DevcompatError.from(error).metadata.oldest_revision;
      if (oldest === undefined || BigInt(oldest) <= from) throw error;
      return await this.watchDrainingChanges(BigInt(oldest), through, signal);
    }
  }

  private async watchDrainingChanges(from: bigint, through: bigint, signal: AbortSignal): Promise<{ actor: string; reason: string } | undefined> {
    const stop = new AbortController();
    const onStop = () => stop.abort();
    signal.addEventListener('abort', onStop, { once: true });
    if (signal.aborted) stop.abort();
    let last: { actor: string; reason: string } | undefined;
    try {
      // Progress every 200 ms: when no change of the host reaches `through` (history compacted past it), the read still ends.
      const watch = this.options.client.watch({ startRevision: from, filter: { host: this.name }, signal: stop.signal, deadlineMs: 60_000, progressIntervalMs: 200 });
      for await (const message of watch) {
        for (const event of message.events) {
          if (event.resource !== this.name) continue;
          if ((event.before?.host?.draining ?? false) !== (event.after?.host?.draining ?? false)) last = { actor: event.actor, reason: event.reason };
        }
        // The first message says the watch is registered, at the registry's revision then: not that the changes up to it came.
        if (!message.created && BigInt(message.revision) >= through) break;
      }
    } finally {
      signal.removeEventListener('abort', onStop);
      stop.abort();
    }
    return last;
  }
}
