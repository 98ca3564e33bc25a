// Writes while a compaction runs over PostgreSQL: how long does a compaction of a large history
// hold the writes? (server/store/postgres-store.ts `compact`.)
//
//   npx tsx bench/compaction-stall.ts [--hosts 20000] [--runs 2] [--sqlite]
//
// Each run makes a throwaway PostgreSQL cluster on loopback (test/helpers/postgres-cluster.ts),
// starts a registry on it in this process, registers the bench fleet (--hosts hosts of 16
// devices: 17 history entries each), then keeps one writer going (a host re-synced with a new
// label, one revision per call, at most 20,000 calls) and, after 0.5 s of writes alone, compacts
// the whole history. It reports the compaction's time and the latency of the writes before it
// and of those overlapping it (the longest is what the compaction held them). --sqlite runs the same on a SQLite
// file instead. Everything listens on loopback; the cluster is removed at the end.

import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DevcompatClient } from '../client/client.ts';
import { startServer } from '../server/server.ts';
import { postgresStore } from '../server/store/postgres-store.ts';
import { PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { encodeSyncRequests, syncFleet } from './load.ts';
import { fmt, nowMs, percentile, sleep } from './stats.ts';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '20000' }, runs: { type: 'string', default: '2' }, sqlite: { type: 'boolean', default: false } },
  strict: true,
});
const hosts = Number(values.hosts);
const runs = Number(values.runs);
if (!Number.isSafeInteger(hosts) || hosts < 1 || hosts > 100_000) throw new Error('--hosts must be an integer from 1 to 100000');
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 10) throw new Error('--runs must be an integer from 1 to 10');

const encoded = encodeSyncRequests({ hosts, seed: 1 } as Parameters<typeof encodeSyncRequests>[0]);
for (let run = 1; run <= runs; run++) {
  const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-compaction-'));
  const cluster = values.sqlite ? undefined : await PostgresCluster.create();
  try {
    const store = cluster ? postgresStore({ url: await cluster.createDatabase('bench') }) : undefined;
    const server = await startServer({ address: '127.0.0.1:0', dbPath: path.join(dir, 'registry.db'), leaseTtlMs: 3_600_000, logger: pino({ level: 'warn' }), ...(store && { store }) });
    const started = nowMs();
    await syncFleet(server.address, encoded, { hosts, inFlight: 64, timeoutS: 900 });
    const revision = server.registry.revision;
    console.log(`run ${run} (${cluster ? 'PostgreSQL' : 'SQLite'}): ${hosts} hosts registered in ${fmt((nowMs() - started) / 1000)} s, revision ${revision}`);
    const client = new DevcompatClient({ address: server.address });
    const writes: { start: number; end: number }[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 20_000; i++) {
        const start = nowMs();
        await client.syncHost({ name: 'hosts/writer', labels: { i: String(i) }, devices: [] });
        writes.push({ start, end: nowMs() });
      }
    })();
    await sleep(500);
    const compacting = nowMs();
    const result = await server.registry.compact(revision, 'bench');
    const compacted = nowMs();
    await sleep(300);
    writing = false;
    await writer;
    // A write overlapping the compaction counts as during it: the one it held ends after it.
    const latency = (list: { start: number; end: number }[]) => list.map((w) => w.end - w.start).sort((a, b) => a - b);
    const before = latency(writes.filter((w) => w.end <= compacting));
    const during = latency(writes.filter((w) => w.start < compacted && w.end > compacting));
    console.log(
      `  compacted ${result.removed} entries in ${fmt(compacted - compacting)} ms; writes before: ${before.length}, p50 ${fmt(percentile(before, 50), 1)} ms, ` +
        `max ${fmt(before.at(-1) ?? Number.NaN, 1)} ms; during: ${during.length}, p50 ${fmt(percentile(during, 50), 1)} ms, max ${fmt(during.at(-1) ?? Number.NaN, 1)} ms`,
    );
    client.close();
    await server.close();
  } finally {
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
