// The V8 heap settings of the server process (issue 7). First, the one it sets on itself: how
// far the old generation may grow past what the last full collection kept before the next one.
// V8 chooses that factor itself (from 1.1 up to 4, the faster its collections run compared
// with the program, the larger), and for a registry, whose live state is large and long-lived
// while each sync's garbage (decoded requests, plans, history entries held until their batch
// commits) dies old, it let the heap run to two or three times the live state: 329 MB of RSS
// right after a 10,000-host fleet registered, against about 70 MB of live heap. A fixed 2 keeps
// the heap within twice what is live (about 260 MB in the same bench; docs/benchmarks.md, "The
// heap setting"), and caps nothing: a large fleet's heap grows as far as it needs, as before.
// 1.5 kept it a little smaller (about 240 MB) but its more frequent full collections cost the
// sync time and put pauses into the first searches after a restart (measured, same section).
//
// Only the served process sets it (`devcompat serve`), never a library user of startServer.
// A --heap-growing-percent of the operator's own, given to node itself (`node
// --heap-growing-percent=N .../dist/client/main.js serve`), wins. Node refuses the flag in
// NODE_OPTIONS (the process does not start), so node's own arguments are the only place to look.
//
// Second, the young generation's size, which V8 reads once, when the process's heap is made:
// no setting at run time changes it, so the server asks for it where node is launched. Node
// 20 and 22 cap each of its semi-spaces at 16 MB where V8's heap limit is over 2 GB; Node 24's
// V8 lets them grow to 64 MB, and a registry's steady allocation grows them there: on Node 24
// the bench's fleet left the server at 331 MB of RSS after seeding and peaked at 444 MB (over
// the 400 MB target), against 236 and 315 MB with --max-semi-space-size=16, the sync time and
// check rate within the runs' spread (one run each; docs/benchmarks.md, "Issue 7 in the
// fourteenth and fifteenth sessions"). Every launch the project ships gives node
// SEMI_SPACE_FLAG: `npm start`, the container image (NODE_OPTIONS, which allows it) and the
// systemd unit; the bench starts the server so too. A server started on Node 24 or later
// without any semi-space size of the operator's says so in its log (semiSpaceAdvice), since
// nothing else would tell.

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

/** Each semi-space of V8's young generation, in MB, as the server is meant to run. */
export const SEMI_SPACE_MB = 16;

/** The node flag for it: given at launch (node's arguments or NODE_OPTIONS, which allows it). */
export const SEMI_SPACE_FLAG = `--max-semi-space-size=${SEMI_SPACE_MB}`;

const SEMI_SPACE = /^--max[-_]semi[-_]space[-_]size(=|$)/;

/** Whether node was launched with a semi-space size, in its arguments or in NODE_OPTIONS. */
export function semiSpaceGiven(
  nodeArguments: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  return [...nodeArguments, ...nodeOptions.split(/\s+/)].some((argument) => SEMI_SPACE.test(argument));
}

/**
 * The start-up warning for a server whose node chose its own young generation where that costs
 * memory (Node 24 and later, whose semi-spaces grow to 64 MB); undefined where nothing is amiss.
 */
export function semiSpaceAdvice(nodeVersion: string = process.version, given: boolean = semiSpaceGiven()): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  if (given || !(major >= 24)) return undefined;
  return (
    `node ${nodeVersion} was started without --max-semi-space-size: its young generation may grow ` +
    `to 64 MB per semi-space, about 100 MB more memory for a large fleet; start node with ` +
    `${SEMI_SPACE_FLAG} (npm start, the container image and the systemd unit do)`
  );
}
