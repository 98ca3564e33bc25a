// Raw grpc-js access to what the client library does not offer (yet), with every message as
// the server sent it: point-in-time reads (`as_of_revision` / `as_of_time`), FindTargets with
// host-state options, lease keepalives, and the standing query CompatibilityService.WatchTargets
// (a recorder, and the ranked set a client keeps by applying its diffs).

import type * as grpc from '@grpc/grpc-js';
import { DevcompatError } from '../../client/client.ts';
import { StreamRecorder, type RawClients } from './watch.ts';

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export const toTimestamp = (ms: number): Timestamp => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
export const timestampMs = (ts: Timestamp): number => Number(ts.seconds) * 1000 + Math.round(ts.nanos / 1e6);

// ---------------------------------------------------------------------------------------
// FindTargets

export interface RawFoundTarget {
  name: string;
  rank: number;
  result: any;
  capacity: { total: number; available: number } | null;
  exact: boolean;
  host_state: string;
}

export interface RawFindOutcome {
  /** Compatible targets, in stream (rank) order. */
  targets: RawFoundTarget[];
  /** Rejected candidates (rank 0), in stream order. */
  rejected: RawFoundTarget[];
  summary: { revision: string; candidates: number; compatible: number; rejected: number; distinct_descriptors: number };
  /** Summaries seen: exactly one, last, on a well-formed stream. */
  summaries: number;
}

/** Drains one FindTargets stream; rejects with a DevcompatError when the call fails. */
export function findTargetsRaw(compatibility: any, request: object): Promise<RawFindOutcome> {
  return new Promise((resolve, reject) => {
    const outcome: RawFindOutcome = { targets: [], rejected: [], summary: undefined as any, summaries: 0 };
    const call: grpc.ClientReadableStream<any> = compatibility.FindTargets(request);
    call.on('data', (message: any) => {
      if (message.summary) {
        outcome.summary = message.summary;
        outcome.summaries++;
      } else if (message.target.rank > 0) outcome.targets.push(message.target);
      else outcome.rejected.push(message.target);
    });
    call.on('error', (error) => reject(DevcompatError.from(error)));
    call.on('end', () => resolve(outcome));
  });
}

// ---------------------------------------------------------------------------------------
// Leases

/**
 * One KeepAlive stream, as a host agent keeps it: renews `hosts` (editable while it runs) every
 * `everyMs`. `stop()` half-closes it and resolves once the server has answered every keepalive
 * sent, so that none can still renew a lease afterwards.
 */
export function keepAlive(raw: RawClients, hosts: Iterable<string>, everyMs = 100) {
  const call = raw.registry.KeepAlive();
  const alive = new Set(hosts);
  const errors: unknown[] = [];
  call.on('data', (response: any) => {
    if (response.error) errors.push(response.error);
  });
  const ended = new Promise<void>((resolve) => {
    call.on('end', resolve);
    call.on('close', resolve);
    call.on('error', () => resolve());
  });
  const renew = () => {
    for (const name of alive) call.write({ name });
  };
  renew();
  const timer = setInterval(renew, everyMs);
  let stopped = false;
  return {
    hosts: alive,
    errors,
    stop(): Promise<void> {
      clearInterval(timer);
      if (!stopped) call.end();
      stopped = true;
      return ended;
    },
  };
}

// ---------------------------------------------------------------------------------------
// WatchTargets

export interface TargetChange {
  kind: string;
  name: string;
  sort_key: string;
  result: any;
  capacity: { total: number; available: number } | null;
  exact: boolean;
  host_state: string;
}

export interface WatchTargetsMessage {
  revision: string;
  changes: TargetChange[];
  initial: boolean;
  initial_complete: boolean;
}

/** Byte order of two sort keys (the order the API promises is rank order). */
export const bySortKey = (a: { sort_key: string }, b: { sort_key: string }): number =>
  Buffer.compare(Buffer.from(a.sort_key, 'utf8'), Buffer.from(b.sort_key, 'utf8'));

/** Records every message of one WatchTargets stream, and how it ended. */
export class TargetsWatch extends StreamRecorder<WatchTargetsMessage> {
  constructor(compatibility: any, request: object) {
    super(compatibility.WatchTargets(request));
  }

  get initialComplete(): boolean {
    return this.messages.some((message) => message.initial_complete);
  }

  /** The messages of the initial set (up to the one with initial_complete). */
  get initialMessages(): WatchTargetsMessage[] {
    const end = this.messages.findIndex((message) => message.initial_complete);
    return end === -1 ? [...this.messages] : this.messages.slice(0, end + 1);
  }

  /** The diffs after the initial set. */
  get updates(): WatchTargetsMessage[] {
    const end = this.messages.findIndex((message) => message.initial_complete);
    return end === -1 ? [] : this.messages.slice(end + 1);
  }

  /** Whether a message at `revision` (a decimal string) has arrived. */
  has(revision: string): boolean {
    return this.messages.some((message) => message.revision === revision);
  }

  waitForInitial(timeoutMs = 20_000): Promise<void> {
    return this.waitFor((w) => w.initialComplete || w.ended, timeoutMs, 'the initial set');
  }

  /**
   * What a client keeps by applying every message in order: the targets by name. A diff that
   * does not fit the set it applies to (ADDED for a present target, UPDATED or REMOVED for an
   * absent one) is reported in `anomalies`.
   */
  applied(): { targets: Map<string, TargetChange>; anomalies: string[] } {
    const targets = new Map<string, TargetChange>();
    const anomalies: string[] = [];
    for (const message of this.messages) {
      for (const change of message.changes) {
        const present = targets.has(change.name);
        if (change.kind === 'TARGET_CHANGE_KIND_ADDED') {
          if (present) anomalies.push(`r${message.revision}: ADDED ${change.name}, already a target`);
          targets.set(change.name, change);
        } else if (change.kind === 'TARGET_CHANGE_KIND_UPDATED') {
          if (!present) anomalies.push(`r${message.revision}: UPDATED ${change.name}, not a target`);
          targets.set(change.name, change);
        } else if (change.kind === 'TARGET_CHANGE_KIND_REMOVED') {
          if (!present) anomalies.push(`r${message.revision}: REMOVED ${change.name}, not a target`);
          targets.delete(change.name);
        } else {
          anomalies.push(`r${message.revision}: ${change.kind} ${change.name}`);
        }
      }
    }
    return { targets, anomalies };
  }

  /** The applied set in sort-key order. */
  ranked(): TargetChange[] {
    return [...this.applied().targets.values()].sort(bySortKey);
  }
}
