// FindTargets' warm-up after start-up. Right after a restart the first searches are slow (the
// first 70–86 ms, the next ones 25–35 ms, against 4–6 ms once warm; docs/benchmarks.md): the
// code of the search, the ranking and the encoding of each target runs interpreted until V8 has
// seen it run, and the verdict cache is empty. So once the server serves, it answers a few
// searches of its own, in the background, exactly as a client's would be answered
// (compatibility-service.ts findTargetsAnswer, then the method's serializer), and throws the
// answers away. It starts once the first call after start-up has been answered (afterFirstAnswer):
// a restart is judged by its first answer, which the warm-up must not delay. It answers one
// search per source, one source per distinct descriptor among the first hosts, fewest candidates
// first, so that the first (coldest) searches are the cheapest. Each takes its turn among the
// clients' searches (streams.ts searchTurn): a client's call waits for at most one of them, and
// calls already read from the network come first. It stops once the server closes.
//
// Nothing is written and nothing a client sees changes: a search reads the live state, and the
// verdicts it caches are the ones the first client search would have cached.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from '../core/registry.ts';
import type { FindTargetsRequest__Output } from '../../proto/generated/devcompat/v1/FindTargetsRequest.ts';
import { findTargetsAnswer } from './compatibility-service.ts';
import type { StreamTracker } from './streams.ts';

/** Searches the warm-up answers; enough for V8 to compile the search's code (measured: 20–30 searches). */
export const WARM_UP_SEARCHES = 24;
/** Hosts looked at to pick the sources from (their devices' distinct descriptors). */
const SOURCE_HOSTS = 64;

export interface WarmUp {
  /** Starts the searches (once; nothing before). */
  begin(): void;
  /** Ends the warm-up: no search starts after this. */
  stop(): void;
  /** Settles once the warm-up has ended (done, stopped, or failed: it never rejects), with the searches it answered. */
  readonly done: Promise<{ readonly searches: number }>;
}

/**
 * Prepares the warm-up on the registry as it is now (the state just loaded: its sources are
 * picked here, so a registry that starts empty has nothing to warm), to start on begin().
 * `request` turns a source device's name into the request a client would send (the method's
 * own deserializer, so that it carries the same defaults); `serialize` is the method's response
 * serializer.
 */
export function warmFindTargets(options: {
  readonly registry: Registry;
  readonly streams: StreamTracker;
  readonly request: (sourceName: string) => FindTargetsRequest__Output;
  readonly serialize: (message: unknown) => Buffer;
  readonly log: Logger;
  readonly searches?: number;
}): WarmUp {
  const total = options.searches ?? WARM_UP_SEARCHES;
  const sources = total > 0 ? warmUpSources(options.registry) : [];
  let stopped = false;
  let begun = false;
  let ended: (result: { searches: number }) => void = () => undefined;
  const done = new Promise<{ searches: number }>((resolve) => (ended = resolve));
  const run = async () => {
    let searches = 0;
    for (let i = 0; searches < total; i++) {
      await options.streams.searchTurn();
      if (stopped) break;
      for (const message of await findTargetsAnswer(options.registry, options.request(sources[i % sources.length]))) options.serialize(message);
      searches++;
    }
    return { searches };
  };
  if (sources.length === 0) ended({ searches: 0 });
  return {
    begin() {
      if (begun || stopped || sources.length === 0) return;
      begun = true;
      void run().then(ended, (error: unknown) => {
        options.log.warn({ err: error }, 'the FindTargets warm-up failed (searches are answered as usual)');
        ended({ searches: 0 });
      });
    },
    stop() {
      stopped = true;
      if (!begun) ended({ searches: 0 });
    },
    done,
  };
}

/** One device per distinct descriptor among the first hosts, fewest candidates first. */
function warmUpSources(registry: Registry): string[] {
  const byDescriptor = new Map<number, { name: string; candidates: number }>();
  for (const host of registry.listHosts({ labels: {}, afterHostId: undefined, limit: SOURCE_HOSTS })) {
    for (const device of host.devices.values()) {
      if (byDescriptor.has(device.entry.id)) continue;
      let candidates = 0;
      for (const entry of registry.candidateEntries(device.entry.descriptor)) candidates += entry.devices.size;
      byDescriptor.set(device.entry.id, { name: device.name, candidates });
    }
  }
  return [...byDescriptor.values()].sort((a, b) => a.candidates - b.candidates).map((source) => source.name);
}

/**
 * A server interceptor that calls `start` once, when the first call has been answered (its
 * status sent); every later call passes through.
 */
export function afterFirstAnswer(start: () => void): grpc.ServerInterceptor {
  let fired = false;
  return (_method, call) => {
    if (fired) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      sendStatus: (status, next) => {
        next(status);
        if (fired) return;
        fired = true;
        start();
      },
    });
  };
}
