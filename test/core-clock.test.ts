// The clock's contract, which every lease and retention test leans on: a ManualClock's
// repeating tasks fire exactly at their due times, in time order, each seeing its own due
// time; stopping a task stops it; time never goes back. The system clock reads the wall clock
// and its timers can be stopped (checked without waiting for one to fire).

import test from 'ava';
import { ManualClock, systemClock } from '../server/core/clock.ts';

test('a manual clock starts where told and moves only when advanced', (t) => {
  const clock = new ManualClock(1000);
  t.is(clock.now(), 1000);
  clock.advance(5);
  t.is(clock.now(), 1005);
  clock.advanceTo(1005);
  t.is(clock.now(), 1005, 'advancing to now is allowed');
  clock.advanceTo(2000);
  t.is(clock.now(), 2000);
  t.is(new ManualClock().now(), 1_700_000_000_000);
});

test('a manual clock does not go back', (t) => {
  const clock = new ManualClock(1000);
  const error = t.throws(() => clock.advanceTo(999));
  t.is(error.message, 'a manual clock does not go back (999 < 1000)');
  t.is(clock.now(), 1000);
});

test('a repeating task fires exactly at each due time, seeing its due time', (t) => {
  const clock = new ManualClock(0);
  const seen: number[] = [];
  clock.every(10, () => seen.push(clock.now()));
  clock.advance(9);
  t.deepEqual(seen, [], 'not a millisecond early');
  clock.advance(1);
  t.deepEqual(seen, [10]);
  clock.advance(25);
  t.deepEqual(seen, [10, 20, 30], 'every due time on the way, each at its own time');
  t.is(clock.now(), 35);
});

test('tasks due on the way run in time order, the earlier registered first on a tie', (t) => {
  const clock = new ManualClock(0);
  const seen: string[] = [];
  clock.every(7, () => seen.push(`a@${clock.now()}`));
  clock.every(3, () => seen.push(`b@${clock.now()}`));
  clock.every(7, () => seen.push(`c@${clock.now()}`));
  clock.advance(14);
  t.deepEqual(seen, ['b@3', 'b@6', 'a@7', 'c@7', 'b@9', 'b@12', 'a@14', 'c@14']);
});

test('stopping a task stops only that task', (t) => {
  const clock = new ManualClock(0);
  const seen: string[] = [];
  const stopA = clock.every(5, () => seen.push('a'));
  clock.every(5, () => seen.push('b'));
  const stopC = clock.every(5, () => seen.push('c'));
  t.is(clock.pendingTasks, 3);
  clock.advance(5);
  t.deepEqual(seen, ['a', 'b', 'c']);
  stopA();
  t.is(clock.pendingTasks, 2);
  clock.advance(5);
  t.deepEqual(seen, ['a', 'b', 'c', 'b', 'c']);
  stopC();
  stopC();
  t.is(clock.pendingTasks, 1);
  clock.advance(5);
  t.deepEqual(seen, ['a', 'b', 'c', 'b', 'c', 'b']);
});

test('a task may stop itself while it runs', (t) => {
  const clock = new ManualClock(0);
  let runs = 0;
  const stop = clock.every(2, () => {
    runs++;
    stop();
  });
  clock.advance(10);
  t.is(runs, 1);
  t.is(clock.pendingTasks, 0);
});

test('an interval must be positive', (t) => {
  const clock = new ManualClock(0);
  for (const interval of [0, -1, Number.NaN]) {
    const error = t.throws(() => clock.every(interval, () => {}));
    t.is(error.message, `interval must be positive, got ${interval}`);
  }
  t.is(clock.pendingTasks, 0);
  clock.every(1, () => {});
  t.is(clock.pendingTasks, 1);
});

test('the system clock reads the wall clock and its timers can be stopped', (t) => {
  const before = Date.now();
  const now = systemClock.now();
  t.is(typeof now, 'number');
  t.true(now >= before && now <= Date.now());
  let fired = 0;
  const stop = systemClock.every(60_000, () => fired++);
  t.is(typeof stop, 'function');
  t.is(stop(), undefined);
  t.is(fired, 0);
});

test('a stopped system timer fires no more, while one started after it goes on', async (t) => {
  // Both timers are 1 ms intervals in one Node timer list, so they fire in turn: if stopping
  // the first did nothing, it would fire again before the second fires its second time.
  // The system clock's timers are unref'd: a plain timer keeps the process alive meanwhile.
  const keepAlive = setTimeout(() => {}, 30_000);
  let first = 0;
  const stopFirst = systemClock.every(1, () => {
    first++;
    stopFirst();
  });
  let second = 0;
  await new Promise<void>((resolve) => {
    const stopSecond = systemClock.every(1, () => {
      if (++second === 3) {
        stopSecond();
        resolve();
      }
    });
  });
  clearTimeout(keepAlive);
  t.is(first, 1);
  t.is(second, 3);
});
