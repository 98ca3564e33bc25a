// WatchService: the change feed over gRPC. The hub (core/watch-hub.ts) decides what each
// watcher receives; this layer encodes it (watch-encoding.ts) and bounds what a slow consumer
// may hold. A revision that reaches many watchers is encoded once, its bytes kept on the change,
// for every watcher without a vendor, API or type filter (host-filtered ones included); a
// progress tick encodes its message once for every watcher due. The stream (streams.ts) shares
// those bytes and sends a turn's messages to each watcher as one write.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument, Violations } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { checkFilterString, optionalRevision, parseHostRef } from '../core/resources.ts';
import type { WatchHub } from '../core/watch-hub.ts';
import { liveStream, type StreamTracker } from './streams.ts';
import { encodeDelivery, encodeWatchResponse, progressEncoding, wholeEncoding } from './watch-encoding.ts';
import type { WatchRequest__Output } from '../../proto/generated/devcompat/v1/WatchRequest.ts';
import type { WatchFilter__Output } from '../../proto/generated/devcompat/v1/WatchFilter.ts';

export const DEFAULT_PROGRESS_INTERVAL_MS = 5000;
export const MIN_PROGRESS_INTERVAL_MS = 100;
/** What one watcher may have written but not yet flushed to its client. */
export const DEFAULT_WATCH_BUFFER_BYTES = 8 * 1024 * 1024;

export function watchHandlers(
  registry: Registry,
  hub: WatchHub,
  streams: StreamTracker,
  log: Logger,
  options: { bufferBytes: number },
): grpc.UntypedServiceImplementation {
  return {
    Watch: liveStream(
      streams,
      log,
      {
        bufferBytes: options.bufferBytes,
        tooSlowMessage: `the watch fell more than ${options.bufferBytes} bytes behind: resync required, resume from your last revision + 1`,
      },
      (request: WatchRequest__Output, stream) => {
        const violations = new Violations();
        const start = optionalRevision(request.start_revision, 'start_revision', violations);
        checkFilterString(request.filter?.vendor, 'filter.vendor', violations);
        checkFilterString(request.filter?.device_api, 'filter.device_api', violations);
        checkFilterString(request.filter?.type, 'filter.type', violations);
        violations.throwIfAny();
        const interval = request.progress_interval_ms || DEFAULT_PROGRESS_INTERVAL_MS;
        if (interval < MIN_PROGRESS_INTERVAL_MS) {
          throw invalidArgument([
            { field: 'progress_interval_ms', description: `at least ${MIN_PROGRESS_INTERVAL_MS}, got ${interval}` },
          ]);
        }
        const filter: Partial<WatchFilter__Output> = request.filter ?? {};
        const handle = hub.open(
          {
            startRevision: start || undefined,
            filter: {
              hostId: filter.host ? parseHostRef(filter.host, 'filter.host') : undefined,
              vendor: filter.vendor || undefined,
              deviceApi: filter.device_api || undefined,
              type: filter.type || undefined,
            },
            progressIntervalMs: interval,
          },
          {
            deliver: (delivery) =>
              stream.offer(delivery.whole ? wholeEncoding(delivery, registry) : encodeDelivery(delivery, registry)),
            progress: (revision, headHash) => {
              stream.offer(progressEncoding(revision, headHash));
            },
            // A consumer that reads nothing for --send-timeout while the hub waits for it (to
            // catch it up, or for its next page) is cut off: what is buffered for it goes.
            drained: async () => {
              const timeout = streams.limits.sendTimeoutMs;
              if (!(await stream.drainedWithin(timeout))) {
                stream.tooSlow(`the watch read nothing for ${timeout} ms (--send-timeout): resume from your last revision + 1`);
              }
            },
            fail: (error) => stream.fail(error),
          },
        );
        stream.onEnd(() => handle.cancel());
        stream.write(
          encodeWatchResponse({
            revision: String(handle.createdRevision),
            head_hash: registry.headHash,
            created: true,
            oldest_revision: String(registry.oldestRevision),
          }),
        );
      },
    ),
  };
}
