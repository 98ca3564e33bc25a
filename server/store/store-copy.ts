// `devcompat store copy <from> <to>`: copies a registry with its whole history and chain from
// one store to another (SQLite to PostgreSQL when a registry outgrows one file, or back), then
// proves the copy: the target, opened again, has the source's revision and chain head, and its
// chain verifies whole. Only through the core's store interface, so any pair of stores works.
//
// How: each revision's history is committed as its own batch (so the target's revisions
// table, its head row and its chain are built exactly as a server would have), then the
// current state (descriptors, hosts, devices, claims, leases) in one last batch without history.
// The target must be empty. A compacted source (its chain starts at a checkpoint) has its
// compaction records and the revision at its cut recorded in the target first
// (`startCompacted`), so the copied history chains to the same checkpoint.

import { historyQuery, type CommitBatch, type CompactionRecord, type HistoryRecord, type ServedStore } from '../core/store.ts';
import { EMPTY_BATCH } from '../core/write-planning.ts';
import { parseStoreSpec, redact, type StoreChoice } from './store-choice.ts';
import { PostgresStore } from './postgres-store.ts';
import { WorkerStore } from './worker-store.ts';

const PAGE = 5_000;

export interface CopyReport {
  readonly revision: number;
  readonly headHash: string;
  readonly entries: number;
  readonly hosts: number;
  readonly devices: number;
}

/** The compaction records' contents, whatever order a store builds their fields in. */
function recordsKey(records: readonly CompactionRecord[]): string {
  return JSON.stringify(
    records.map((r) => [r.checkpoint.revision, r.checkpoint.hash, r.time, r.actor, r.removed, r.headRevision, r.headHash, r.recordHash]),
  );
}

export async function openStoreOf(choice: StoreChoice): Promise<ServedStore> {
  return choice.kind === 'postgres' ? PostgresStore.open({ url: choice.url }) : WorkerStore.open({ path: choice.path, durability: 'full' });
}

export async function copyStore(fromSpec: string, toSpec: string, progress: (line: string) => void = () => undefined): Promise<CopyReport> {
  const from = await openStoreOf(parseStoreSpec(fromSpec));
  try {
    const source = await from.load();
    const compacted = source.checkpoint.revision !== 0 ? await from.compactedStart() : undefined;
    if (source.checkpoint.revision !== 0 && !compacted) {
      throw new Error(`${redact(fromSpec)} was compacted up to revision ${source.checkpoint.revision}, but the revision at its cut is missing: it cannot be copied`);
    }
    const to = await openStoreOf(parseStoreSpec(toSpec));
    try {
      const target = await to.load();
      if (target.revision !== 0 || target.hosts.length > 0) {
        throw new Error(`${redact(toSpec)} is not empty (revision ${target.revision}): copy into an empty store`);
      }
      if (compacted) {
        await to.startCompacted(compacted);
        progress(`recorded ${compacted.records.length} compaction(s): history starts after revision ${source.checkpoint.revision}`);
      }
      let entries = 0;
      let after: { revision: number; seq: number } | undefined;
      let pending: HistoryRecord[] = [];
      const flushRevision = async () => {
        if (pending.length === 0) return;
        await to.commit({ ...EMPTY_BATCH, history: pending });
        entries += pending.length;
        pending = [];
      };
      for (;;) {
        const page = await from.listHistory(historyQuery({ after, limit: PAGE }));
        for (const entry of page) {
          if (pending.length > 0 && pending[0].revision !== entry.revision) await flushRevision();
          const { hash: _hash, ...stored } = entry;
          pending.push(stored);
        }
        if (page.length < PAGE) break;
        after = { revision: page.at(-1)!.revision, seq: page.at(-1)!.seq };
        progress(`copied history up to revision ${after.revision}`);
      }
      await flushRevision();
      const state: CommitBatch = {
        ...EMPTY_BATCH,
        newDescriptors: source.descriptors,
        hostUpserts: source.hosts,
        deviceUpserts: source.devices,
        leases: [...source.leaseExpiries].map(([hostId, expireTime]) => ({ hostId, expireTime })),
        claimUpserts: source.claims ?? [],
      };
      await to.commit(state);
      const copied = await to.load();
      if (copied.revision !== source.revision || copied.headHash !== source.headHash) {
        throw new Error(
          `the copy does not match: revision ${copied.revision} head ${copied.headHash}, the source has revision ${source.revision} head ${source.headHash}`,
        );
      }
      if (copied.checkpoint.revision !== source.checkpoint.revision || copied.checkpoint.hash !== source.checkpoint.hash) {
        throw new Error(`the copy's checkpoint (revision ${copied.checkpoint.revision}) is not the source's (revision ${source.checkpoint.revision})`);
      }
      const walk = await to.verifyChain({
        after: undefined,
        prevHash: source.checkpoint.hash,
        limit: Number.MAX_SAFE_INTEGER,
        expectedHead: source.headHash,
      });
      if (walk.broken || (entries > 0 && !walk.foundExpectedHead)) {
        throw new Error(`the copy's chain does not verify: ${walk.broken?.description ?? 'the source head is not in it'}`);
      }
      const records = await to.compactions();
      if (records.broken || recordsKey(records.records) !== recordsKey(compacted?.records ?? [])) {
        throw new Error(`the copy's compaction records are not the source's: ${records.broken ?? 'they differ'}`);
      }
      return { revision: copied.revision, headHash: copied.headHash, entries, hosts: copied.hosts.length, devices: copied.devices.length };
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
