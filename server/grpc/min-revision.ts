// `x-devcompat-min-revision` (proto/wire.ts): a call that carries it is held until this server
// reflects that revision, so a client that wrote through one replica reads its write through
// another. It waits up to the call's deadline (at most MIN_REVISION_MAX_WAIT_MS), then the
// call ends UNAVAILABLE, which the client retries, perhaps on a replica that is further along.
// One interceptor for every method, so no handler has to know about replicas.

import * as grpc from '@grpc/grpc-js';
import { MIN_REVISION_MAX_WAIT_MS, MIN_REVISION_METADATA_KEY } from '../../proto/wire.ts';

export interface RevisionGate {
  readonly revision: number;
  reachRevision(revision: number, timeoutMs: number): Promise<boolean>;
}

export function minRevisionInterceptor(gate: () => RevisionGate | undefined): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const raw = metadata.get(MIN_REVISION_METADATA_KEY)[0];
            const registry = gate();
            if (raw === undefined || !registry) {
              nextMetadata(metadata);
              return;
            }
            const wanted = Number(String(raw));
            if (!Number.isSafeInteger(wanted) || wanted < 0) {
              call.sendStatus({
                code: grpc.status.INVALID_ARGUMENT,
                details: `${MIN_REVISION_METADATA_KEY} must be a non-negative integer revision, not ${JSON.stringify(String(raw))}`,
              });
              return;
            }
            if (registry.revision >= wanted) {
              nextMetadata(metadata);
              return;
            }
            const deadline = call.getDeadline();
            const until = deadline instanceof Date ? deadline.getTime() : Number(deadline);
            const wait = Math.min(MIN_REVISION_MAX_WAIT_MS, Number.isFinite(until) ? Math.max(0, until - Date.now()) : MIN_REVISION_MAX_WAIT_MS);
            void registry.reachRevision(wanted, wait).then((reached) => {
              if (reached) nextMetadata(metadata);
              else {
                call.sendStatus({
                  code: grpc.status.UNAVAILABLE,
                  details: `this server is at revision ${registry.revision}, not yet at the ${MIN_REVISION_METADATA_KEY} ${wanted}: retry`,
                });
              }
            });
          },
        }),
    });
}
