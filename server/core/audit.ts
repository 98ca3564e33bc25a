// The audit chain's upkeep: verification, compaction and retention. The store hashes every
// entry it writes (server/store/history-chain.ts); here the chain is walked from the
// checkpoint to the head in chunks, so that writes go on meanwhile, and its end is compared
// with the head the live state holds (a replica's head, which may trail the shared store, must
// be on the chain): entries removed or rewritten behind the server's back show as a mismatch.
// Compaction removes history up to a revision and moves the checkpoint. Audit work runs one at
// a time.
//
// Owns: the checkpoint (the oldest history kept; with a store other servers compact too, also
// learned from them) and the audit queue. May call: the store's `verifyChain`, `compact`,
// `revisionAt`, `compactions`, a shared store's `checkpoint`; the live state's revision and
// head; the clock.

import { invalidArgument } from './errors.ts';
import type { Clock } from './clock.ts';
import type { LiveState } from './live-state.ts';
import type { ChainWalk, Checkpoint, CompactionRecord, CompactionResult, RegistryStore, RevisionLog } from './store.ts';
import { SERVER_ACTOR } from './leases.ts';

export const CHAIN_WALK_CHUNK = 5000;

export type RetentionPolicy = { readonly kind: 'revisions'; readonly keep: number } | { readonly kind: 'age'; readonly keepMs: number };

export interface ChainVerification {
  readonly intact: boolean;
  readonly checked: number;
  readonly headRevision: number;
  readonly headHash: string;
  readonly checkpoint: Checkpoint;
  /** Every compaction, oldest first: what history is gone, who removed it, when, the head then. */
  readonly compactions: readonly CompactionRecord[];
  readonly broken?: ChainWalk['broken'];
}

export class Audit {
  /** Audit work (verification, compaction) runs one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private checkpointValue: Checkpoint;

  constructor(
    private readonly store: RegistryStore,
    private readonly state: LiveState,
    private readonly clock: Clock,
    checkpoint: Checkpoint,
    private readonly shared?: RevisionLog,
  ) {
    this.checkpointValue = checkpoint;
  }

  /** History up to and including checkpoint.revision has been compacted away. */
  get checkpoint(): Checkpoint {
    return this.checkpointValue;
  }

  /**
   * Called after a read of history: the read may have missed history another server sharing
   * the store compacted meanwhile, so that server's checkpoint is read (after the read, calls
   * being in order) before the reader decides. At once for a store only this server compacts.
   */
  async refresh(): Promise<void> {
    if (this.shared) this.followed(await this.shared.checkpoint());
  }

  /** Another server compacted the shared store up to `checkpoint` (server/core/follower.ts). */
  followed(checkpoint: Checkpoint): void {
    if (checkpoint.revision > this.checkpointValue.revision) this.checkpointValue = checkpoint;
  }

  /**
   * Walks the history chain from the checkpoint to the head, 5,000 entries per store call so
   * that writes go on meanwhile. With `expectedHead`, that hash must be on the chain.
   */
  verifyHistory(expectedHead: string | undefined): Promise<ChainVerification> {
    return this.enqueue(async () => {
      const log = await this.store.compactions();
      // Another server sharing the store may have compacted since this one last followed it.
      const latest = log.records.at(-1)?.checkpoint;
      if (latest) this.followed(latest);
      const checkpoint = this.checkpointValue;
      let prev = checkpoint.hash;
      let after: { revision: number; seq: number } | undefined;
      let checked = 0;
      let found = expectedHead === undefined || expectedHead === prev;
      let head = { revision: checkpoint.revision, hash: prev };
      // A replica's memory may trail the shared store (other replicas' commits it has not
      // followed yet): its head, as it is now, must be on the stored chain, which may go on
      // past it. A store only this server writes must end exactly at the head memory holds.
      // (A replica that trails the checkpoint, another replica having compacted past its head,
      // cannot tell: its head is gone with the history; it must restart, follower.ts.)
      const live = this.shared && this.state.revision >= checkpoint.revision ? { revision: this.state.revision, hash: this.state.headHash } : undefined;
      let foundLive = live !== undefined && live.hash === prev;
      const result = (extra: Partial<ChainVerification>): ChainVerification => ({
        intact: true,
        checked,
        headRevision: head.revision,
        headHash: head.hash,
        checkpoint,
        compactions: log.records,
        ...extra,
      });
      for (;;) {
        const walk: ChainWalk = await this.store.verifyChain({ after, prevHash: prev, limit: CHAIN_WALK_CHUNK, expectedHead, liveHead: live?.hash });
        checked += walk.checked;
        if (walk.foundExpectedHead) found = true;
        if (walk.foundLiveHead) foundLive = true;
        if (walk.last) {
          after = { revision: walk.last.revision, seq: walk.last.seq };
          prev = walk.last.hash;
          head = { revision: walk.last.revision, hash: walk.last.hash };
        }
        if (walk.broken) return result({ intact: false, broken: walk.broken });
        if (walk.checked < CHAIN_WALK_CHUNK) break;
      }
      // The entries chain; the compaction records must chain too.
      if (log.broken) {
        return result({ intact: false, broken: { revision: checkpoint.revision, seq: 0, problem: 'COMPACTION_RECORD_BROKEN', description: log.broken } });
      }
      // The walk ended where the stored chain ends; a store only this server writes holds what memory holds.
      const liveHead = this.state.headHash;
      const mismatch = (description: string) =>
        result({ intact: false, broken: { revision: head.revision, seq: 0, problem: 'HEAD_MISMATCH', description: `${description}: entries were removed or rewritten behind the ${this.shared ? "servers' backs" : "server's back"}` } });
      if (live && !foundLive) {
        return mismatch(`the stored chain (to revision ${head.revision}, ${head.hash.slice(0, 12)}…) does not hold this server's head, revision ${live.revision} (${live.hash.slice(0, 12)}…)`);
      }
      if (!this.shared && head.hash !== liveHead) {
        return mismatch(`the stored chain ends at revision ${head.revision} (${head.hash.slice(0, 12)}…), but the server's head is revision ${this.state.revision} (${liveHead.slice(0, 12)}…)`);
      }
      if (!found) {
        return result({
          intact: false,
          broken: {
            revision: 0,
            seq: 0,
            problem: 'HEAD_NOT_FOUND',
            description: `no entry has the expected head ${expectedHead}: history was rewritten or its tail removed (or the head predates the checkpoint at revision ${checkpoint.revision})`,
          },
        });
      }
      return result({});
    });
  }

  /** Removes history up to and including `revision`, keeping a checkpoint of the chain. */
  compact(revision: number, actor: string): Promise<CompactionResult> {
    if (revision > this.state.revision) {
      return Promise.reject(
        invalidArgument([{ field: 'revision', description: `is after the current revision ${this.state.revision}` }]),
      );
    }
    return this.enqueue(async () => {
      const result = await this.store.compact({ revision, time: this.clock.now(), actor });
      this.checkpointValue = result.checkpoint;
      return result;
    });
  }

  /** Compacts per a retention policy: keep the last N revisions, or the last N ms of history. */
  async applyRetention(policy: RetentionPolicy): Promise<CompactionResult | undefined> {
    let revision: number;
    if (policy.kind === 'revisions') revision = this.state.revision - policy.keep;
    else revision = ((await this.store.revisionAt(this.clock.now() - policy.keepMs)) ?? 0) - 1;
    if (revision <= this.checkpointValue.revision) return undefined;
    return this.compact(revision, SERVER_ACTOR);
  }

  /** Resolves once the audit work queued so far has finished (whatever its outcome). */
  async drain(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
