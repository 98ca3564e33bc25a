// The V8 heap setting the server process sets on itself (issue 7): how far the old generation
// may grow past what the last full collection kept before the next one. V8 chooses that factor
// itself (from 1.1 up to 4, the faster its collections run compared with the program, the
// larger), and for a registry, whose live state is large and long-lived while each sync's
// garbage (decoded requests, plans, history entries held until their batch commits) dies old,
// it let the heap run to two or three times the live state: 329 MB of RSS right after a
// 10,000-host fleet registered, against about 70 MB of live heap. A fixed 2 keeps the heap
// within twice what is live (about 260 MB in the same bench; docs/benchmarks.md, "The heap
// setting"), and caps nothing: a large fleet's heap grows as far as it needs, as before. 1.5
// kept it a little smaller (about 240 MB) but its more frequent full collections cost the sync
// time and put pauses into the first searches after a restart (measured, same section).
//
// Only the served process sets it (`devcompat serve`), never a library user of startServer.
// A --heap-growing-percent of the operator's own, given to node itself (`node
// --heap-growing-percent=N .../main.js serve`), wins. Node refuses the flag in NODE_OPTIONS
// (the process does not start), so node's own arguments are the only place to look.

import v8 from 'node:v8';

/** The old generation grows by at most this percent of what the last full collection kept. */
export const HEAP_GROWING_PERCENT = 100;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/** Sets the server's heap growing factor unless the operator gave one; the percent in effect, if ours. */
export function applyHeapSettings(nodeArguments: readonly string[] = process.execArgv): number | undefined {
  const given = nodeArguments.some((argument) => FLAG.test(argument));
  if (given) return undefined;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return HEAP_GROWING_PERCENT;
}
