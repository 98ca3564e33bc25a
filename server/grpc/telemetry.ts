// Call telemetry: the one server interceptor through which every call is measured, logged and
// traced, ours and health's and reflection's alike, whatever ends it (a handler, the
// authorization check, strict decoding, a limit). Handlers know nothing of it.
//
// Per call it keeps a start time, message counts, the status sent, the actor from metadata and a
// write's revision from its response; when the call ends (grpc-js tells every listener
// `onCancel` once the stream closes, after a status or a client's cancel) it reports to the
// metrics (server/metrics.ts), ends the span (server/tracing.ts) and writes one log line: at
// `debug` for a call that went as expected, so a busy server is quiet at `info`; at `info` for
// load signals (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED); at `warn` for server faults (INTERNAL,
// UNKNOWN, DATA_LOSS, UNIMPLEMENTED) and for unary calls slower than `slowRequestMs`.
//
// It must sit right after the limits interceptor (grpc/limits.ts): a call that interceptor
// cuts off never sends its status through here. A call shed over the memory budget is
// recognized because the limits interceptor counts it synchronously just before this one sees
// the call; a request that did not arrive within the receive timeout is recognized by its
// missing message after that time.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ACTOR_METADATA_KEY } from '../../proto/wire.ts';
import { receiveTimedOut } from './limits.ts';
import { messageCount } from './direct-send.ts';

export type CallType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** A method as metrics label it: `devcompat.v1.RegistryService` and `SyncHost`. */
export interface CallMethod {
  readonly path: string;
  readonly service: string;
  readonly method: string;
  readonly type: CallType;
}

/** What the metrics learn of each call (server/metrics.ts implements it). */
export interface CallMetrics {
  started(method: CallMethod): void;
  ended(method: CallMethod, code: grpc.status, seconds: number, received: number, sent: number): void;
}

/** One call's span (server/tracing.ts makes them). */
export interface CallSpan {
  end(code: grpc.status, details: string | undefined): void;
}

/** Starts a call's span, the child of the caller's trace context in `metadata` when it sent one. */
export interface CallTracer {
  start(service: string, method: string, metadata: grpc.Metadata): CallSpan;
}

export interface CallTelemetryOptions {
  readonly log: Logger;
  /** A unary call slower than this is logged at `warn`; 0: never. */
  readonly slowRequestMs: number;
  readonly metrics?: CallMetrics;
  /** Undefined when tracing is off. */
  readonly tracer?: CallTracer;
  /** The authenticated identity of a call (with mutual TLS), for its log line. */
  readonly identityOf?: (call: grpc.ServerInterceptingCallInterface) => string | undefined;
  /** Calls shed by the limits interceptor so far (LimitStats.shed). */
  readonly shedCount: () => number;
}

/** A unary call slower than this is logged at `warn` by default. */
export { DEFAULT_SLOW_REQUEST_MS } from '../server-defaults.ts';

const SERVER_FAULTS = new Set([grpc.status.UNKNOWN, grpc.status.INTERNAL, grpc.status.DATA_LOSS, grpc.status.UNIMPLEMENTED]);
const LOAD_SIGNALS = new Set([grpc.status.RESOURCE_EXHAUSTED, grpc.status.DEADLINE_EXCEEDED]);

function callType(definition: grpc.ServerMethodDefinition<unknown, unknown>): CallType {
  if (definition.requestStream) return definition.responseStream ? 'bidi_stream' : 'client_stream';
  return definition.responseStream ? 'server_stream' : 'unary';
}

/** The revision a unary response carries (writes and reads both say what they reflect). */
function revisionOf(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !('revision' in message)) return undefined;
  const revision = Number((message as { revision: unknown }).revision);
  return Number.isFinite(revision) ? revision : undefined;
}

function deadlinePassed(call: grpc.ServerInterceptingCallInterface): boolean {
  const deadline = call.getDeadline();
  return (typeof deadline === 'number' ? deadline : deadline.getTime()) <= Date.now();
}

export function telemetryInterceptor(options: CallTelemetryOptions): grpc.ServerInterceptor {
  const { log, metrics, tracer } = options;
  const methods = new Map<string, CallMethod>();
  const methodOf = (definition: grpc.ServerMethodDefinition<unknown, unknown>): CallMethod => {
    let method = methods.get(definition.path);
    if (!method) {
      const [, service = '', name = ''] = /^\/([^/]*)\/(.*)$/.exec(definition.path) ?? [];
      method = { path: definition.path, service, method: name, type: callType(definition) };
      methods.set(definition.path, method);
    }
    return method;
  };
  let shedSeen = options.shedCount();

  return (definition, call) => {
    const method = methodOf(definition);
    const start = performance.now();
    const shedNow = options.shedCount();
    const shed = shedNow !== shedSeen;
    shedSeen = shedNow;
    let began = false;
    let ended = false;
    let metadata: grpc.Metadata | undefined;
    /** Read at the start: once a cancelled stream has closed, grpc-js no longer knows it. */
    let peer = '';
    let status: { code: grpc.status; details?: string } | undefined;
    let received = 0;
    let sent = 0;
    let revision: number | undefined;
    let span: CallSpan | undefined;

    const codeOf = (): grpc.status => {
      if (status) return status.code;
      if (shed) return grpc.status.RESOURCE_EXHAUSTED;
      if (deadlinePassed(call)) return grpc.status.DEADLINE_EXCEEDED;
      // Cut off by the limits interceptor beneath this one (its status never passes here).
      return receiveTimedOut.has(call) ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED;
    };

    const finish = () => {
      if (ended || !began) return;
      ended = true;
      const elapsedMs = performance.now() - start;
      const code = codeOf();
      metrics?.ended(method, code, elapsedMs / 1000, received, sent);
      span?.end(code, status?.details);
      const slow = method.type === 'unary' && options.slowRequestMs > 0 && elapsedMs >= options.slowRequestMs;
      const level = SERVER_FAULTS.has(code) || slow ? 'warn' : LOAD_SIGNALS.has(code) ? 'info' : 'debug';
      if (!log.isLevelEnabled(level)) return;
      const actor = metadata?.get(ACTOR_METADATA_KEY)[0];
      const line: Record<string, unknown> = {
        method: method.path,
        code: grpc.status[code],
        duration_ms: Math.round(elapsedMs * 1000) / 1000,
        peer,
      };
      const identity = options.identityOf?.(call);
      if (identity) line.identity = identity;
      if (actor !== undefined) line.actor = String(actor);
      if (revision !== undefined) line.revision = revision;
      if (method.type !== 'unary') {
        line.received = received;
        line.sent = sent;
      }
      if (slow) line.slow = true;
      log[level](line, slow ? 'slow request' : method.type === 'unary' ? 'request' : 'stream ended');
    };

    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (incoming, nextMetadata) => {
            // The call has reached the base call's listener: from here on grpc-js will say when it ends.
            began = true;
            metadata = incoming;
            peer = call.getPeer();
            metrics?.started(method);
            if (tracer) span = tracer.start(method.service, method.method, incoming);
            nextMetadata(incoming);
          },
          onReceiveMessage: (message, nextMessage) => {
            received++;
            nextMessage(message);
          },
          onCancel: finish,
        }),
      sendMessage: (message, next) => {
        // A live stream's batch (direct-send.ts) is the messages it holds.
        sent += messageCount(message);
        if (method.type === 'unary') revision = revisionOf(message);
        next(message);
      },
      sendStatus: (sentStatus, next) => {
        status ??= sentStatus;
        next(sentStatus);
      },
    });
  };
}
