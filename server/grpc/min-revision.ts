// Read your own writes across replicas: a read may name the lowest revision its answer must
// reflect, as the request field `min_revision` (every read request has it) or as the request
// metadata `x-devcompat-min-revision` (proto/wire.ts; any call, for clients that cannot set
// the field). The call is held until this server has applied that revision, so a client that
// wrote through one replica reads its write through another. It waits up to the call's
// deadline (at most MIN_REVISION_MAX_WAIT_MS), then the call ends UNAVAILABLE naming the
// revision asked for and the one reached, which the client retries, perhaps on a replica that
// is further along. When both are given the call waits for the higher of the two.
//
// One interceptor for every method, so no handler has to know about replicas: the metadata
// holds the call before its handler starts; the field holds each request message before the
// handler receives it (on CheckCompatibilityStream, each message in its turn, in order).

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { MIN_REVISION_MAX_WAIT_MS, MIN_REVISION_METADATA_KEY } from '../../proto/wire.ts';
import { DomainError, invalidArgument } from '../core/errors.ts';
import { toServiceError } from './errors.ts';

/** The request field, in every read request message. */
export const MIN_REVISION_FIELD = 'min_revision';

export interface RevisionGate {
  readonly revision: number;
  reachRevision(revision: number, timeoutMs: number): Promise<boolean>;
}

const RULE = 'must be a revision: an integer from 0 to 2^53 - 1';

/** The revision asked for under `name` (0 when absent), or the INVALID_ARGUMENT naming it. */
export function parseMinRevision(raw: unknown, name: string): number | DomainError {
  if (raw === undefined || raw === null || raw === '') return 0;
  const text = String(raw);
  const wanted = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(wanted)) return invalidArgument([{ field: name, description: `${RULE}, not ${JSON.stringify(text)}` }]);
  return wanted;
}

/**
 * How long a call may wait for its revision: until shortly before its deadline (so that the
 * caller receives the UNAVAILABLE that names the revisions, not a bare DEADLINE_EXCEEDED), at
 * most MIN_REVISION_MAX_WAIT_MS. The answer is left a quarter of the time, at most 500 ms: with
 * 200 ms, a loaded two-core machine once delivered it after the deadline (CI, 2 Dec 2026).
 */
function waitBudgetMs(call: grpc.ServerInterceptingCallInterface): number {
  const deadline = call.getDeadline();
  const until = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  if (!Number.isFinite(until)) return MIN_REVISION_MAX_WAIT_MS;
  const left = Math.max(0, until - Date.now());
  return Math.min(MIN_REVISION_MAX_WAIT_MS, left - Math.min(500, left / 4));
}

function notYet(wanted: number, reached: number, name: string, waitedMs: number): DomainError {
  return new DomainError(
    'UNAVAILABLE',
    `this server has applied revision ${reached}, not yet the ${name} ${wanted} asked for (waited ${waitedMs} ms): retry, perhaps on another replica`,
    { metadata: { min_revision: String(wanted), revision: String(reached) } },
  );
}

/**
 * `mayWait`, when given, says whether a call may be held at all: one it refuses goes straight on
 * to its handler (an unauthenticated caller, which its handler refuses, learns no revision). It
 * is asked once per call, and only of a call that names a revision: most calls never pay for it.
 */
export function minRevisionInterceptor(
  gate: () => RevisionGate | undefined,
  log: Logger,
  mayWait?: (call: grpc.ServerInterceptingCallInterface) => boolean,
): grpc.ServerInterceptor {
  return (_method, call) => {
    let allowed: boolean | undefined;
    const mayHold = () => (allowed ??= !mayWait || mayWait(call));
    let ended = false;
    const end = (error: DomainError) => {
      if (ended) return;
      ended = true;
      call.sendStatus(toServiceError(error, log) as grpc.StatusObject);
    };
    /** Runs `go` once the registry is at `raw` (named `name`), or ends the call. */
    const hold = (raw: unknown, name: string, go: () => void): void => {
      // A caller its handler will refuse goes on to it: it is neither held nor answered here.
      const wanted = parseMinRevision(raw, name);
      if (wanted instanceof DomainError) return mayHold() ? end(wanted) : go();
      const registry = gate();
      if (!registry || registry.revision >= wanted || !mayHold()) return go();
      const started = Date.now();
      void registry.reachRevision(wanted, waitBudgetMs(call)).then((reached) => {
        if (ended) return;
        if (reached) go();
        else end(notYet(wanted, registry.revision, name, Date.now() - started));
      });
    };
    /** Messages still held, so that a later message never overtakes an earlier one. */
    let held: Promise<void> = Promise.resolve();
    let holding = 0;
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            hold(metadata.get(MIN_REVISION_METADATA_KEY)[0], MIN_REVISION_METADATA_KEY, () => nextMetadata(metadata));
          },
          onReceiveMessage: (message, nextMessage) => {
            const raw = typeof message === 'object' && message !== null ? (message as Record<string, unknown>)[MIN_REVISION_FIELD] : undefined;
            const pass = () =>
              new Promise<void>((resolve) =>
                hold(raw, MIN_REVISION_FIELD, () => {
                  holding--;
                  nextMessage(message);
                  resolve();
                }),
              );
            // Nothing held: decided at once (and forwarded at once when no wait is needed).
            holding++;
            held = holding === 1 ? pass() : held.then(pass);
          },
          onCancel: () => {
            ended = true;
          },
        }),
    });
  };
}
