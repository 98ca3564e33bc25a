// FindTargets counts rejected candidates without visiting them when only hosts are excluded;
// asking for the rejected ones (include_rejected) makes it visit every candidate. Both paths
// must report the same numbers, on a real generated fleet, with and without exclusions.

import test from 'ava';
import { findSources } from '../bench/find-sources.ts';
import { generateFleet } from '../bench/fleet.ts';
import { syncRequest } from '../bench/load.ts';
import type { FindTargetsSummary } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';

test('summary counts are the same whether rejected candidates are visited or only counted', async (t) => {
  const { client } = await startTestServer(t);
  const spec = { hosts: 300, seed: 3 };
  for (const host of generateFleet(spec)) await client.syncHost(syncRequest(host));
  const sources = findSources(spec);

  const summaryOf = async (source: string, options: Parameters<typeof client.findTargets>[1]) => {
    let summary: FindTargetsSummary | undefined;
    const rejectedHosts: string[] = [];
    for await (const item of client.findTargets(source, { ...options, rejectedLimit: 10_000 })) {
      if ('summary' in item) summary = item.summary;
      else if (item.target.rank === 0) rejectedHosts.push(item.target.name.split('/devices/')[0]);
    }
    return { summary: summary!, rejectedStreamed: rejectedHosts.length, rejectedHosts };
  };

  let checked = 0;
  for (const source of [sources.gvtg, sources.nvidia, sources.mlx5]) {
    // Exclude hosts that do hold rejected candidates, so that the count must subtract them.
    const { rejectedHosts } = await summaryOf(source.name, { includeRejected: true, limit: 1 });
    const withRejected = [...new Set(rejectedHosts)].slice(0, 3);
    t.is(withRejected.length, 3);
    for (const exclude of [[], withRejected]) {
      const options = { excludeHosts: exclude, limit: 1 };
      const counted = await summaryOf(source.name, options);
      const visited = await summaryOf(source.name, { ...options, includeRejected: true });
      t.deepEqual(counted.summary, visited.summary, `${source.name} excluding [${exclude.join(', ')}]`);
      t.is(visited.rejectedStreamed, visited.summary.rejected, 'every rejected candidate was streamed when asked');
      t.true(counted.summary.rejected > 0 && counted.summary.compatible > 0);
      checked++;
    }
  }
  t.is(checked, 6);
});
