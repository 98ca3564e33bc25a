// `devcompat store copy <from> <to>`: copies a registry with its whole history and chain from
// one store to another (SQLite to PostgreSQL when a registry outgrows one file, or back), then
// proves the copy: the target has the source's revision, chain head, checkpoint, compaction
// records and revisions rows, and its chain verifies whole, walked a page at a time.
//
// How: the target must be empty. The copy first writes its mark into it (store-copy-mark.ts: a
// row no registry has, which makes every server refuse the target), then goes through the
// source's revisions rows in order: a revision with history is committed as its own batch (so
// the target's revisions row, head and chain are built exactly as a server would have), a
// revision without any (a restore's or a re-anchoring's record, written by the database
// itself) is written as its row alone. Then the current state (descriptors, hosts, devices,
// claims, leases) in one last batch without history; then the checks; and only when they
// pass is the mark deleted. Interrupted, crashed or failed, the target keeps the mark.
// A compacted source (its chain starts at a checkpoint) has its compaction records and the
// revision at its cut recorded in the target first (`startCompacted`), so the copied history
// chains to the same checkpoint.
//
// A SQLite source is opened read-only and must exist: nothing is created or changed in it or
// beside it (a backup is copied as it is). Both SQL stores are used directly (SQLite on this
// thread, no worker): the copy needs their revisions rows and the mark, which the core's store
// interface does not offer.

import { existsSync, statSync } from 'node:fs';
import {
  historyQuery,
  type ChainWalk,
  type ChainWalkQuery,
  type CommitBatch,
  type CommitResult,
  type CompactedStart,
  type CompactionLog,
  type CompactionRecord,
  type HistoryQuery,
  type HistoryRecord,
  type LoadedState,
} from '../core/store.ts';
import { EMPTY_BATCH } from '../core/write-planning.ts';
import { parseStoreSpec, redact, type StoreChoice } from './store-choice.ts';
import { COPY_MARK_REVISION, copyMark, redoCopy, unfinishedCopyError, type RevisionRow } from './store-copy-mark.ts';
import { PostgresStore } from './postgres-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { DatabaseInUseError, SingleWriterLock } from './single-writer-lock.ts';

/** History entries, or revisions rows, read per call. */
const PAGE = 5_000;
/** History entries the final check walks per store call (as VerifyHistory does: core/audit.ts). */
export const CHAIN_PAGE = 5_000;
/** How often a long copy says how far it got (on stderr, through `progress`). */
export const PROGRESS_EVERY_MS = 5_000;

export interface CopyReport {
  readonly revision: number;
  readonly headHash: string;
  readonly entries: number;
  readonly hosts: number;
  readonly devices: number;
}

export interface CopyOptions {
  /** Progress lines, at most one per `progressEveryMs` (the CLI writes them to stderr). */
  readonly progress?: (line: string) => void;
  readonly progressEveryMs?: number;
  /** Entries per verifyChain call in the final check (CHAIN_PAGE). */
  readonly chainPage?: number;
}

type Maybe<T> = T | Promise<T>;

/** What the copy uses of a store: SqliteStore (synchronous) and PostgresStore both have it. */
interface CopyEnd {
  load(): Maybe<LoadedState>;
  commit(batch: CommitBatch): Maybe<CommitResult>;
  listHistory(query: HistoryQuery): Maybe<HistoryRecord[]>;
  verifyChain(query: ChainWalkQuery): Maybe<ChainWalk>;
  compactions(): Maybe<CompactionLog>;
  compactedStart(): Maybe<CompactedStart | undefined>;
  startCompacted(start: CompactedStart): Maybe<void>;
  revisionRows(after: number, limit: number): Maybe<RevisionRow[]>;
  addRevisions(rows: readonly RevisionRow[]): Maybe<void>;
  dropCopyMark(): Maybe<void>;
  close(): Maybe<void>;
}

/** The compaction records' contents, whatever order a store builds their fields in. */
function recordsKey(records: readonly CompactionRecord[]): string {
  return JSON.stringify(
    records.map((r) => [r.checkpoint.revision, r.checkpoint.hash, r.time, r.actor, r.removed, r.headRevision, r.headHash, r.recordHash]),
  );
}

const rowKey = (row: RevisionRow) => JSON.stringify([row.revision, row.time, row.actor, row.reason]);

/** The source: a SQLite file that exists, opened read-only; or PostgreSQL. */
async function openSource(choice: StoreChoice): Promise<CopyEnd> {
  if (choice.kind === 'postgres') return PostgresStore.open({ url: choice.url });
  if (!existsSync(choice.path)) throw new Error(`the source ${choice.path} does not exist (a mistyped path?): nothing was copied`);
  if (!statSync(choice.path).isFile()) throw new Error(`the source ${choice.path} is not a file: nothing was copied`);
  return new SqliteStore({ path: choice.path, durability: 'full', readOnly: true });
}

/**
 * A SQLite source a server has run on has its lock file: the lock is held for the whole copy,
 * so that no server writes what the copy would miss (one running now is refused). A backup has
 * none, and nothing is created beside it.
 */
function lockSource(choice: StoreChoice): SingleWriterLock | undefined {
  if (choice.kind !== 'sqlite' || !existsSync(`${choice.path}.lock`)) return undefined;
  try {
    return SingleWriterLock.acquire(choice.path);
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error;
    throw new Error(
      `the source ${choice.path} is in use by a running devcompat server${error.holderPid ? ` (pid ${error.holderPid})` : ''}: ` +
        'its writes after the copy would be lost. Stop it first, or copy a backup of it (devcompat backup): nothing was copied',
    );
  }
}

/**
 * The target, opened even when it holds an unfinished copy's mark (which the copy then refuses,
 * saying how to clear it), and without the start-up chain check: an empty target has no chain,
 * a marked one may hold a broken one (a failed check), and the copy walks the whole chain itself.
 */
async function openTarget(choice: StoreChoice): Promise<CopyEnd> {
  if (choice.kind === 'postgres') return PostgresStore.open({ url: choice.url, copyTarget: true, startupChainCheck: 0 });
  return new SqliteStore({ path: choice.path, durability: 'full', copyTarget: true, startupChainCheck: 0 });
}

/** Calls `progress` with the line at most once per `everyMs` (a callback, so a line not printed is not built). */
function throttled(progress: (line: string) => void, everyMs: number): (line: () => string) => void {
  let last = Date.now();
  return (line) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    progress(line());
  };
}

export async function copyStore(fromSpec: string, toSpec: string, options: CopyOptions = {}): Promise<CopyReport> {
  const fromChoice = parseStoreSpec(fromSpec);
  const toChoice = parseStoreSpec(toSpec);
  const lock = lockSource(fromChoice);
  let from: CopyEnd;
  try {
    from = await openSource(fromChoice);
  } catch (error) {
    lock?.release();
    throw error;
  }
  try {
    const source = await from.load();
    const compacted = source.checkpoint.revision !== 0 ? await from.compactedStart() : undefined;
    if (source.checkpoint.revision !== 0 && !compacted) {
      throw new Error(`${redact(fromSpec)} was compacted up to revision ${source.checkpoint.revision}, but the revision at its cut is missing: it cannot be copied`);
    }
    const to = await openTarget(toChoice);
    try {
      const [first] = await to.revisionRows(COPY_MARK_REVISION - 1, 1);
      if (first?.revision === COPY_MARK_REVISION) throw unfinishedCopyError(toChoice, first);
      const target = await to.load();
      if (first || target.hosts.length > 0 || (await to.compactions()).records.length > 0) {
        throw new Error(`${redact(toSpec)} is not empty (revision ${target.revision}): copy into an empty store`);
      }
      // Before anything else: from here on, until the checks pass, no server takes the target for a registry.
      await to.addRevisions([copyMark(fromSpec)]);
      try {
        const report = await copyInto(from, source, compacted, to, options);
        await to.dropCopyMark();
        return report;
      } catch (error) {
        const cause = error instanceof Error ? error.message : String(error);
        throw new Error(`${cause}. ${redact(toSpec)} is left marked as an unfinished copy, which no server starts on. ${redoCopy(toChoice)}`, { cause: error });
      }
    } finally {
      await to.close();
    }
  } finally {
    try {
      await from.close();
    } finally {
      lock?.release();
    }
  }
}

/** Copies into the marked, empty target and checks the copy; throws on the first difference. */
async function copyInto(from: CopyEnd, source: LoadedState, compacted: CompactedStart | undefined, to: CopyEnd, options: CopyOptions): Promise<CopyReport> {
  const progress = options.progress ?? (() => undefined);
  const every = throttled(progress, options.progressEveryMs ?? PROGRESS_EVERY_MS);
  if (compacted) {
    await to.startCompacted(compacted);
    progress(`recorded ${compacted.records.length} compaction(s): history starts after revision ${source.checkpoint.revision}`);
  }
  const history = new HistoryReader(from, source.revision);
  let entries = 0;
  // The revisions rows after the checkpoint (the cut's own came with startCompacted), up to the source's head.
  let after = source.checkpoint.revision;
  for (;;) {
    const rows = (await from.revisionRows(after, PAGE)).filter((row) => row.revision <= source.revision);
    for (const row of rows) {
      const found = await history.entriesOf(row.revision);
      if (found.length > 0) {
        await to.commit({ ...EMPTY_BATCH, history: found });
        entries += found.length;
      } else {
        await to.addRevisions([row]);
      }
      after = row.revision;
      every(() => `copied revision ${row.revision} of ${source.revision} (${entries} history entries)`);
    }
    if (rows.length < PAGE) break;
  }
  const stray = await history.next();
  if (stray) throw new Error(`the source has history at revision ${stray.revision}, which its revisions table lacks: it cannot be copied`);
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
  await checkChain(to, source, entries, options.chainPage ?? CHAIN_PAGE, every);
  const records = await to.compactions();
  if (records.broken || recordsKey(records.records) !== recordsKey(compacted?.records ?? [])) {
    throw new Error(`the copy's compaction records are not the source's: ${records.broken ?? 'they differ'}`);
  }
  await checkRevisions(from, to, source);
  return { revision: copied.revision, headHash: copied.headHash, entries, hosts: copied.hosts.length, devices: copied.devices.length };
}

/** The source's history up to its head, read a page at a time, handed out a revision at a time. */
class HistoryReader {
  private page: HistoryRecord[] = [];
  private at = 0;
  private after: { revision: number; seq: number } | undefined;
  private done = false;

  constructor(
    private readonly from: CopyEnd,
    private readonly through: number,
  ) {}

  /** The next entry, without taking it; undefined at the end. */
  async next(): Promise<HistoryRecord | undefined> {
    if (this.at === this.page.length && !this.done) {
      this.page = await this.from.listHistory(historyQuery({ after: this.after, endRevision: this.through, limit: PAGE }));
      this.at = 0;
      this.done = this.page.length < PAGE;
      const last = this.page.at(-1);
      if (last) this.after = { revision: last.revision, seq: last.seq };
    }
    return this.page[this.at];
  }

  /** The entries of `revision` (none when it has none), as the target commits them (without their stored hash). */
  async entriesOf(revision: number): Promise<HistoryRecord[]> {
    const found: HistoryRecord[] = [];
    for (let entry = await this.next(); entry !== undefined && entry.revision <= revision; entry = await this.next()) {
      if (entry.revision < revision) {
        throw new Error(`the source has history at revision ${entry.revision}, which its revisions table lacks: it cannot be copied`);
      }
      const { hash: _hash, ...stored } = entry;
      found.push(stored);
      this.at++;
    }
    return found;
  }
}

/** Walks the copy's chain from the checkpoint, `page` entries per call: it must verify, hold every entry copied and end at the source's head. */
async function checkChain(to: CopyEnd, source: LoadedState, entries: number, page: number, every: (line: () => string) => void): Promise<void> {
  let after: ChainWalkQuery['after'];
  let prevHash = source.checkpoint.hash;
  let checked = 0;
  for (;;) {
    const walk = await to.verifyChain({ after, prevHash, limit: page, expectedHead: source.headHash });
    checked += walk.checked;
    if (walk.broken) throw new Error(`the copy's chain does not verify: ${walk.broken.problem} at revision ${walk.broken.revision}: ${walk.broken.description}`);
    if (walk.last) {
      after = { revision: walk.last.revision, seq: walk.last.seq };
      prevHash = walk.last.hash;
    }
    if (walk.checked < page) break;
    every(() => `checked ${checked} of ${entries} history entries of the copy's chain`);
  }
  if (checked !== entries || prevHash !== source.headHash) {
    throw new Error(`the copy's chain does not verify: it holds ${checked} entries ending in ${prevHash}, the source ${entries} ending in ${source.headHash}`);
  }
}

/** The copy's revisions rows are the source's, from the cut (or the first revision) to the head, with their time, actor and reason. */
async function checkRevisions(from: CopyEnd, to: CopyEnd, source: LoadedState): Promise<void> {
  let after = Math.max(COPY_MARK_REVISION, source.checkpoint.revision - 1);
  for (;;) {
    const expected = (await from.revisionRows(after, PAGE)).filter((row) => row.revision <= source.revision);
    const found = await to.revisionRows(after, PAGE);
    // Past the source's last page, the copy must have no more rows either.
    const lastPage = expected.length < PAGE;
    for (let i = 0; i < (lastPage ? Math.max(expected.length, found.length) : expected.length); i++) {
      const want = expected[i];
      const have = found[i];
      if (want && have && rowKey(want) === rowKey(have)) continue;
      throw new Error(
        `the copy's revisions are not the source's at revision ${(want ?? have)!.revision}: ` +
          `the copy's row is ${have ? rowKey(have) : 'missing'}, the source's ${want ? rowKey(want) : 'missing'}`,
      );
    }
    if (lastPage) return;
    after = expected.at(-1)!.revision;
  }
}
