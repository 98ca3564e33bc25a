// FindPlacements without gRPC, for profiling (`node --cpu-prof --import tsx
// bench/placement-inprocess.ts [hosts] [queries]`): the seeded fleet synced into a Registry on
// the in-memory store, then the bench's 3-device VM (two vGPUs of the nvidia-525 source's kind
// and one mlx5 VF, limit 10) asked `queries` times in a row; prints p50/p99 of the core's
// answer alone. EXPLAIN=1 asks with explain (every host with a candidate solved). A development tool: the figures the issue asks for come from `npm run bench`.

import { ManualClock } from '../server/core/clock.ts';
import { Registry } from '../server/core/registry.ts';
import { validateSyncHost } from '../server/core/resources.ts';
import { validateFindPlacements } from '../server/core/placement-request.ts';
import { MemoryStore } from '../server/store/memory-store.ts';
import { generateFleet } from './fleet.ts';
import { findSources } from './find-sources.ts';
import { syncRequest } from './load.ts';
import { nowMs, summarize } from './stats.ts';
import { loadServices } from '../proto/load.ts';
import { placementMessages } from '../server/grpc/placement-service.ts';

const hosts = Number(process.argv[2] ?? 10_000);
const queries = Number(process.argv[3] ?? 200);
const spec = { hosts, seed: 1 };

const registry = await Registry.open(new MemoryStore(), { clock: new ManualClock(), leaseTtlMs: 86_400_000 });
const origin = { actor: 'bench', reason: '' };
let started = nowMs();
const pending: Promise<unknown>[] = [];
for (const host of generateFleet(spec)) {
  pending.push(registry.syncHost(validateSyncHost(syncRequest(host) as never), origin));
  if (pending.length >= 256) await Promise.all(pending.splice(0));
}
await Promise.all(pending);
console.log(`synced ${hosts} hosts in ${(nowMs() - started).toFixed(0)} ms`);

const sources = findSources(spec);
const query = validateFindPlacements(
  {
    devices: [
      { request_id: 'gpu', source: { name: sources.nvidia.name }, count: 2 },
      { request_id: 'nic', source: { name: sources.mlx5.name } },
    ],
    limit: 10,
    explain: process.env.EXPLAIN === '1',
  },
  (ref, field) => {
    const resolved = registry.resolveCurrent(ref as never, field);
    return { descriptor: resolved.descriptor, name: resolved.device?.name ?? '' };
  },
);
const times: number[] = [];
let answer = registry.findPlacements(query);
for (let i = 0; i < 20 + queries; i++) {
  started = nowMs();
  answer = registry.findPlacements(query);
  if (i >= 20) times.push(nowMs() - started);
}
const ms = summarize(times);
// The same answers encoded as the server streams them (messages built, then serialized).
const serialize = loadServices().PlacementService.service.FindPlacements.responseSerialize;
const requests = query.requests.map((r) => ({ requestId: r.requestId, source: r.source.name }));
const encodeTimes: number[] = [];
for (let i = 0; i < 20 + queries; i++) {
  started = nowMs();
  const found = registry.findPlacements(query);
  for (const message of placementMessages(found, requests)) serialize(message as never);
  if (i >= 20) encodeTimes.push(nowMs() - started);
}
const encoded = summarize(encodeTimes);
console.log(`FindPlacements in-process, messages encoded too: p50 ${encoded.p50.toFixed(2)} ms, p99 ${encoded.p99.toFixed(2)} ms`);
console.log(
  `FindPlacements in-process: ${answer.placementCount} hosts take the VM of ${answer.hostsExamined} examined, ` +
    `${answer.candidates} candidates; p50 ${ms.p50.toFixed(2)} ms, p99 ${ms.p99.toFixed(2)} ms`,
);
console.log(answer.placements.map((p) => `${p.hostId} ${JSON.stringify(p.assignment.key)}`).join('\n'));
await registry.close();
