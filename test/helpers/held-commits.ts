// A store's commits, watched and held: every batch the group commit sends is recorded as it is
// sent, and its answer (the real store's, or a simulated failure) reaches the registry only
// once the test releases it. So a test can see what is sent while a batch is in flight, and
// what the registry has (not) applied or acknowledged meanwhile. Wraps a real store (memory
// or SQLite through its worker): everything else goes to it unchanged, the leases' own
// commits of renewed expiries too (they carry no baseRevision; the group commit's batches do).

import type { CommitBatch, CommitResult, RegistryStore } from '../../server/core/store.ts';

export interface HeldCommits {
  /** Every batch sent to the store, in order. */
  readonly sent: CommitBatch[];
  /** What `probe` read as each batch was sent (e.g. the registry's revision). */
  readonly probed: number[];
  /** What the store answered to each batch sent so far (once it answered). */
  readonly answers: (CommitResult | Error | undefined)[];
  /** Resolves once `count` batches have been sent. */
  untilSent(count: number): Promise<void>;
  /** Lets every answer held so far, and any later one, through. */
  release(): void;
  /** The `nth` batch sent (1-based) fails with `error` without reaching the store, as a failed transaction. */
  failNth(nth: number, error: Error): void;
}

export function holdCommits(store: RegistryStore, probe: () => number = () => 0): HeldCommits {
  const sent: CommitBatch[] = [];
  const probed: number[] = [];
  const answers: (CommitResult | Error | undefined)[] = [];
  const failures = new Map<number, Error>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const commit = store.commit.bind(store);
  store.commit = (batch: CommitBatch): Promise<CommitResult> => {
    if (batch.baseRevision === undefined) return commit(batch);
    sent.push(batch);
    probed.push(probe());
    const index = sent.length - 1;
    const failure = failures.get(sent.length);
    const answer = failure ? Promise.reject(failure) : commit(batch);
    answer.then(
      (result) => void (answers[index] = result),
      (error: Error) => void (answers[index] = error),
    );
    for (const waiter of waiters.filter((w) => w.count <= sent.length)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return gate.then(() => answer);
  };
  return {
    sent,
    probed,
    answers,
    untilSent(count) {
      if (sent.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    release: () => open(),
    failNth(nth, error) {
      failures.set(nth, error);
    },
  };
}

/** A few turns of the event loop: what a flush scheduled now would have done by then. */
export async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}
