// A following server's lag (server/core/follow-lag.ts), on a manual clock: time since it last
// held the store's head, vouched for only by a read of the head sent at a moment it held it;
// a server that hears nothing ages, and one behind a head it heard of counts the revisions.

import test from 'ava';
import { ManualClock } from '../server/core/clock.ts';
import { FollowLag } from '../server/core/follow-lag.ts';

function rig() {
  const clock = new ManualClock();
  let applied = 10;
  const lag = new FollowLag(clock, () => applied);
  return { clock, lag, apply: (revision: number) => (applied = revision) };
}

test('a server just loaded is at head; silence from the store ages it', (t) => {
  const { clock, lag } = rig();
  t.deepEqual(lag.reading(), { lagMs: 0, revisionsBehind: 0 });
  clock.advance(4_000);
  t.deepEqual(lag.reading(), { lagMs: 4_000, revisionsBehind: 0 }, 'nothing vouched for the last 4 s');
});

test('a head the server holds vouches for the moment it was read, not the moment the answer came', (t) => {
  const { clock, lag } = rig();
  clock.advance(5_000);
  const sent = clock.now();
  clock.advance(1_500); // the read took 1.5 s
  lag.observed(10, sent);
  t.deepEqual(lag.reading(), { lagMs: 1_500, revisionsBehind: 0 });
  // An older observation never makes the server look more stale.
  lag.observed(10, sent - 3_000);
  t.is(lag.reading().lagMs, 1_500);
});

test('a head above what the server applied does not vouch; catching up to it does', (t) => {
  const { clock, lag, apply } = rig();
  clock.advance(2_000);
  lag.observed(15, clock.now());
  t.deepEqual(lag.reading(), { lagMs: 2_000, revisionsBehind: 5 }, 'behind the head it read: still as stale as before');
  clock.advance(3_000);
  t.is(lag.reading().lagMs, 5_000);
  apply(15);
  const at = clock.now();
  lag.observed(15, at);
  t.deepEqual(lag.reading(), { lagMs: 0, revisionsBehind: 0 });
});
