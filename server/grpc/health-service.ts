// The standard gRPC health service (grpc.health.v1.Health: Check, Watch, List), which load
// balancers, Kubernetes' gRPC probes and `devcompat health` ask. serving-health.ts decides each
// status; this module only holds them and answers.
//
// Served here rather than by the grpc-health-check package: that package loads its own copy of
// @grpc/proto-loader and parses its .proto file when imported, 35-50 ms of every start of the
// server on a two-core machine, on the main thread's path to the first answer. The definition
// here comes from the schema the server loads anyway (proto/load.ts, HEALTH_PROTO).
//
// As the protocol says: Check answers NOT_FOUND for a service it does not know; Watch sends the
// status at once (SERVICE_UNKNOWN for a service not known) and then each change, and stays
// open; List gives every service's status. A watcher is sent a status only when it differs from
// the last one it was sent, so a status set again to the same value sends nothing, and a watch
// whose client does not read holds at most its stream's own buffer (16 messages in grpc-js) and
// one status more: once a write is held back, only the latest status is kept, and sent when the
// stream drains. The closing status (NOT_SERVING as the server stops) is written even to a
// stream that has not drained, since its stream ends next and would never drain.

import * as grpc from '@grpc/grpc-js';
import { serviceDefinition } from '../../proto/load.ts';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

type WatchedStatus = ServingStatus | 'SERVICE_UNKNOWN';

/** The most services List answers with, as the protocol allows (RESOURCE_EXHAUSTED beyond). */
const LIST_LIMIT = 100;
/**
 * The longest service name Check and Watch take (a gRPC service's full name is far shorter):
 * a Watch holds its name while open, and the health service needs no certificate, so a longer
 * one is INVALID_ARGUMENT rather than megabytes held per stream.
 */
export const MAX_SERVICE_NAME_BYTES = 1024;

function serviceNameTooLong(service: string): grpc.ServiceError | undefined {
  const bytes = Buffer.byteLength(service);
  if (bytes <= MAX_SERVICE_NAME_BYTES) return undefined;
  return Object.assign(new Error('service too long'), {
    code: grpc.status.INVALID_ARGUMENT,
    details: `service: at most ${MAX_SERVICE_NAME_BYTES} bytes, got ${bytes}`,
    metadata: new grpc.Metadata(),
  });
}

interface Watcher {
  /** The status most recently written to the stream. */
  sent: WatchedStatus | undefined;
  /** A status to send once the stream drains; undefined when nothing waits. */
  pending: WatchedStatus | undefined;
  draining: boolean;
  readonly call: grpc.ServerWritableStream<{ service: string }, { status: string }>;
}

export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  constructor(initial: Readonly<Record<string, ServingStatus>>) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /**
   * Sets `service`'s status ('' is the whole server); its watchers are told of a change.
   * `final`: the server is closing and the watches end next, so the status is written even to
   * a stream that has not drained (one message more), instead of waiting for a drain that will
   * not come.
   */
  setStatus(service: string, status: ServingStatus, { final = false }: { final?: boolean } = {}): void {
    this.statuses.set(service, status);
    for (const watcher of this.watchers.get(service) ?? []) {
      if (final && watcher.draining) {
        watcher.draining = false;
        watcher.pending = undefined;
      }
      this.send(watcher, status);
    }
  }

  /** How many Watch streams are open. */
  get watching(): number {
    let open = 0;
    for (const set of this.watchers.values()) open += set.size;
    return open;
  }

  /**
   * Adds grpc.health.v1.Health to `server`. `trackWatch` is given each Watch call first (the
   * server's stream tracker, which ends them on shutdown); false when it ended the call.
   */
  addToServer(server: Pick<grpc.Server, 'addService'>, trackWatch: (call: grpc.ServerWritableStream<unknown, unknown>) => boolean): void {
    server.addService(serviceDefinition('grpc.health.v1.Health'), {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const service = call.request.service;
        const tooLong = serviceNameTooLong(service);
        if (tooLong) return callback(tooLong);
        const status = this.statuses.get(service);
        if (status) callback(null, { status });
        else callback({ code: grpc.status.NOT_FOUND, details: `health status unknown for service "${service}"` });
      },
      Watch: (call: grpc.ServerWritableStream<{ service: string }, { status: string }>) => {
        if (!trackWatch(call as grpc.ServerWritableStream<unknown, unknown>)) return;
        const service = call.request.service;
        const tooLong = serviceNameTooLong(service);
        if (tooLong) return void call.emit('error', tooLong);
        const watcher: Watcher = { sent: undefined, pending: undefined, draining: false, call };
        let set = this.watchers.get(service);
        if (!set) {
          set = new Set();
          this.watchers.set(service, set);
        }
        set.add(watcher);
        const forget = () => {
          const current = this.watchers.get(service);
          current?.delete(watcher);
          if (current?.size === 0) this.watchers.delete(service);
        };
        call.on('cancelled', forget);
        call.on('close', forget);
        call.on('finish', forget);
        call.on('error', forget);
        this.send(watcher, this.statuses.get(service) ?? 'SERVICE_UNKNOWN');
      },
      List: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (this.statuses.size > LIST_LIMIT) {
          callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: `more than ${LIST_LIMIT} services to list` });
          return;
        }
        const statuses: Record<string, { status: ServingStatus }> = {};
        for (const [service, status] of this.statuses) statuses[service] = { status };
        callback(null, { statuses });
      },
    });
  }

  private send(watcher: Watcher, status: WatchedStatus): void {
    if (watcher.draining) {
      watcher.pending = status === watcher.sent ? undefined : status;
      return;
    }
    if (status === watcher.sent) return;
    const { call } = watcher;
    if (call.destroyed || call.writableEnded) return;
    watcher.sent = status;
    if (call.write({ status })) return;
    watcher.draining = true;
    call.once('drain', () => {
      watcher.draining = false;
      const next = watcher.pending;
      watcher.pending = undefined;
      if (next !== undefined) this.send(watcher, next);
    });
  }
}
