// The V8 heap setting the server process sets on itself (issue 7): how far the old generation
// may grow past what the last full collection kept before the next one. V8 chooses that factor
// itself (from 1.1 up to 4, the faster its collections run compared with the program, the
// larger), and for a registry, whose live state is large and long-lived while each sync's
// garbage (decoded requests, plans, history entries held until their batch commits) dies old,
// it let the heap run to two or three times the live state: 329 MB of RSS right after a
// 10,000-host fleet registered, against about 70 MB of live heap. A fixed 1.5 keeps the heap
// within half again of what is live (240 MB in the same bench; docs/benchmarks.md), costs more
// frequent full collections (most of their marking runs concurrently, on the other core), and
// caps nothing: a large fleet's heap grows as far as it needs, as before.
//
// Only the served process sets it (`devcompat serve`), never a library user of startServer;
// a --heap-growing-percent of the operator's own (node's arguments or NODE_OPTIONS) wins.

import v8 from 'node:v8';

/** The old generation grows by at most this percent of what the last full collection kept. */
export const HEAP_GROWING_PERCENT = 50;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/** Sets the server's heap growing factor unless the operator gave one; the percent in effect, if ours. */
export function applyHeapSettings(
  nodeArguments: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): number | undefined {
  const given = [...nodeArguments, ...nodeOptions.split(/\s+/)].some((argument) => FLAG.test(argument));
  if (given) return undefined;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return HEAP_GROWING_PERCENT;
}
