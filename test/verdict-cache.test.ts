// The verdict cache is bounded: past 50,000 (source, target) descriptor pairs it is reset and
// refills. Here a registry of 230 distinct descriptors (52,900 pairs) is searched from every
// source twice: the first pass computes every pair once and crosses the bound, the second is
// served partly from the refilled cache and partly recomputed. Every answer must be the same
// in both passes (and right: the summary counts follow the version rule), and the cache must
// stay within its bound.

import test from 'ava';
import { startTestServer } from './helpers/server.ts';

const DESCRIPTORS = 230;
const CACHE_LIMIT = 50_000;

const device = (i: number) => ({
  device_id: `gpu${i}`,
  descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: `1.${i}.0` },
});

test('answers stay the same across verdict-cache resets, and the cache stays bounded', async (t) => {
  const { client, server } = await startTestServer(t);
  const devices = Array.from({ length: DESCRIPTORS }, (_, i) => device(i));
  await client.syncHost({ name: 'sources', devices } as any);
  await client.syncHost({ name: 'targets', devices } as any);
  const cached = () => server.registry.stats.cachedVerdicts;

  const answer = async (i: number) => {
    const items: unknown[] = [];
    // The best few targets and the summary, which counts every candidate by its verdict.
    for await (const item of client.findTargets(`hosts/sources/devices/gpu${i}`, { limit: 3 })) {
      items.push(item);
    }
    return JSON.stringify(items);
  };

  const first: string[] = [];
  let largest = 0;
  for (let i = 0; i < DESCRIPTORS; i++) {
    first.push(await answer(i));
    largest = Math.max(largest, cached());
  }
  t.true(largest <= CACHE_LIMIT, `the cache never held more than ${CACHE_LIMIT} pairs (held ${largest})`);
  t.is(cached(), DESCRIPTORS * DESCRIPTORS - CACHE_LIMIT, 'one reset: the cache holds what came after it');
  // A target whose software is as new as the source's or newer is compatible, an older one
  // is not: from 1.i.0, 230 - i targets are compatible and i rejected.
  const counts = (answerText: string) => {
    const summary = (JSON.parse(answerText) as { summary?: { compatible: number; rejected: number } }[]).at(-1)!.summary!;
    return [summary.compatible, summary.rejected];
  };
  first.forEach((text, i) => t.deepEqual(counts(text), [DESCRIPTORS - i, i], `source gpu${i}`));

  // The last source's pairs came after the reset: asked again, they are served from the cache.
  const before = cached();
  t.is(await answer(DESCRIPTORS - 1), first[DESCRIPTORS - 1]);
  t.is(cached(), before, 'a pair cached after the reset is a hit');

  for (let i = 0; i < DESCRIPTORS; i++) {
    t.is(await answer(i), first[i], `source gpu${i}: the same answer after the reset`);
    largest = Math.max(largest, cached());
  }
  t.true(largest <= CACHE_LIMIT);
});
