// The store-commit metrics with two batches in flight: a batch the store refuses as planned
// behind a failed one (StaleBatchError) is planned again, so it counts as a replan, not as a
// failed commit (docs/operations.md); a real failure still counts as one.

import test from 'ava';
import { ServerMetrics } from '../server/metrics.ts';
import { EMPTY_BATCH } from '../server/core/write-planning.ts';
import { StaleBatchError, type ServedStore } from '../server/core/store.ts';

function valueOf(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

test('a stale refusal counts as a replan, a failed commit as a failure', async (t) => {
  const metrics = new ServerMetrics();
  const outcomes: (Error | undefined)[] = [new Error('disk I/O error'), new StaleBatchError(7), undefined];
  const store = {
    commit: async () => {
      const outcome = outcomes.shift();
      if (outcome) throw outcome;
      return { heads: [{ revision: 8, hash: 'ab' }] };
    },
  } as unknown as ServedStore;
  metrics.observeCommits(store);
  await t.throwsAsync(store.commit(EMPTY_BATCH), { message: 'disk I/O error' });
  await t.throwsAsync(store.commit(EMPTY_BATCH), { instanceOf: StaleBatchError });
  await store.commit(EMPTY_BATCH);
  const text = await metrics.register.metrics();
  t.is(valueOf(text, 'devcompat_store_commit_failures_total'), 1);
  t.is(valueOf(text, 'devcompat_store_commit_replans_total'), 1);
  t.is(valueOf(text, 'devcompat_store_commit_seconds_count'), 1);
});
