// The finite-stream admission rule on its own (server/grpc/finite-admission.ts): who is refused,
// who is admitted, and whose unread search gives way, with the clock in the test's hands. The
// same rule through a real server, with clients that read nothing, is in limits.test.ts.

import test from 'ava';
import { FiniteAdmission, type FiniteSlot } from '../server/grpc/finite-admission.ts';
import { BurstReclaim } from '../server/grpc/burst-reclaim.ts';

function admission(limits: Partial<ConstructorParameters<typeof FiniteAdmission>[0]> = {}) {
  let now = 0;
  const rule = new FiniteAdmission(
    { maxFiniteStreams: 4, maxFiniteStreamsPerClient: 3, sendTimeoutMs: 0, evictUnreadAfterMs: 5000, ...limits },
    () => now,
  );
  const evicted: FiniteSlot[] = [];
  const admit = (client: string) => {
    const slot = rule.admit(client);
    slot.evict = () => evicted.push(slot);
    return slot;
  };
  const stall = (slot: FiniteSlot, at: number) => (slot.stalledSince = at);
  return { rule, admit, stall, evicted, advance: (ms: number) => (now += ms) };
}

test('a client at its own cap is refused, naming the flag, while others are admitted', (t) => {
  const { rule, admit } = admission();
  for (let i = 0; i < 3; i++) admit('a');
  const error = t.throws(() => admit('a'));
  t.regex(error!.message, /--max-finite-streams-per-client/);
  admit('b');
  t.is(rule.stats().refusedPerClient, 1);
  t.is(rule.stats().inProgress, 4);
});

test("at the server's limit, a newcomer evicts at once the longest-stalled search of the client holding the most", (t) => {
  const { rule, admit, stall, evicted } = admission();
  const a1 = admit('a');
  const a2 = admit('a');
  const a3 = admit('a');
  const b1 = admit('b');
  stall(b1, 1); // stalled longest, but b holds only one
  stall(a2, 3);
  stall(a1, 2);
  void a3; // a3 is being read
  admit('c');
  t.deepEqual(evicted, [a1], "a holds the most: its longest-stalled search gives way, at once");
  t.is(rule.stats().evictions, 1);
  t.is(rule.stats().inProgress, 4);
});

test('a search being read never gives way, nor one of a client holding no more than the newcomer, until it has been stalled long enough', (t) => {
  const { rule, admit, stall, evicted, advance } = admission({ maxFiniteStreams: 2 });
  const a = admit('a');
  admit('b');
  t.throws(() => admit('c'), { message: /--max-finite-streams\)/ }, 'nothing stalled: refused');
  stall(a, 0);
  t.throws(() => admit('b'), { message: /none may give way/ }, 'a holds no more than b: refused while young');
  advance(5000);
  admit('b');
  t.deepEqual(evicted, [a], 'stalled for --evict-unread-after: it gives way to anyone');
  t.is(rule.stats().refusedServerWide, 2);
});

test('a newcomer that leaves a search of its own unread evicts nobody at once: careless clients cannot evict each other for ever', (t) => {
  const { admit, stall, evicted } = admission({ maxFiniteStreams: 3 });
  stall(admit('a'), 1);
  stall(admit('a'), 2);
  const b = admit('b');
  stall(b, 3);
  t.throws(() => admit('b'), { message: /none may give way/ }, 'b is not reading its own: refused');
  t.deepEqual(evicted, []);
  b.release();
  admit('b');
  admit('c');
  t.is(evicted.length, 1, 'a reading newcomer (c) still evicts at once');
});

test('a released place is free again, and released twice is counted once', (t) => {
  const { rule, admit } = admission({ maxFiniteStreams: 1 });
  const slot = admit('a');
  slot.release();
  slot.release();
  t.is(rule.stats().inProgress, 0);
  admit('b');
  t.is(rule.stats().clients, 1);
});

test("at the server's limit with nothing to evict yet, a search waits for a place, in bounded time, and is refused after it", async (t) => {
  const { rule, admit } = admission({ maxFiniteStreams: 2, admissionWaitMs: 60_000 });
  const a = admit('a');
  admit('b'); // both being read: nothing may give way
  const waiting = rule.admitWaiting('c', () => false);
  let admitted = false;
  void waiting.then(() => (admitted = true));
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.false(admitted, 'no place yet: it waits rather than failing');
  t.is(rule.stats().refusedServerWide, 0);
  a.release();
  const slot = await waiting;
  t.is(slot.client, 'c', 'admitted as soon as a place was released');
  t.is(rule.stats().inProgress, 2);

  const impatient = admission({ maxFiniteStreams: 1, admissionWaitMs: 50 });
  impatient.admit('a');
  const started = performance.now();
  const error = await t.throwsAsync(impatient.rule.admitWaiting('b', () => false));
  t.true(performance.now() - started >= 45, 'refused only once its wait was over');
  t.regex(error!.message, /--max-finite-streams/);
  t.is(impatient.rule.stats().refusedServerWide, 1);

  const at = admission({ maxFiniteStreams: 1, admissionWaitMs: 0 });
  at.admit('a');
  await t.throwsAsync(at.rule.admitWaiting('b', () => false), { message: /--max-finite-streams/ }, '0: refused at once');
});

test('a waiting search whose client has gone stops waiting; a client at its own cap never waits', async (t) => {
  const { rule, admit } = admission({ maxFiniteStreams: 1, maxFiniteStreamsPerClient: 1, admissionWaitMs: 60_000 });
  admit('a');
  let gone = false;
  const waiting = rule.admitWaiting('b', () => gone);
  gone = true;
  await t.throwsAsync(waiting, { message: /--max-finite-streams/ });
  const started = performance.now();
  await t.throwsAsync(rule.admitWaiting('a', () => false), { message: /--max-finite-streams-per-client/ });
  t.true(performance.now() - started < 1000, 'refused at once, not after the wait');
  t.is(rule.stats().inProgress, 1);
});

test('after a burst that ended in refusals or evictions, one collection once the searches are gone; ordinary searches never trigger one', async (t) => {
  const collected: number[] = [];
  let now = 0;
  const reclaim = new BurstReclaim(() => collected.push(now), () => now, 20, 10_000);
  const { rule, admit } = admission({ maxFiniteStreams: 2, maxFiniteStreamsPerClient: 1 });
  rule.onAdmit = () => reclaim.started();
  rule.onIdle = (trouble) => reclaim.idle(trouble);
  const quiet = () => new Promise((resolve) => setTimeout(resolve, 60));

  admit('a').release(); // an ordinary search, read and gone
  await quiet();
  t.deepEqual(collected, [], 'no burst, no collection');

  const a = admit('a');
  t.throws(() => admit('a')); // a refusal: a burst
  a.release();
  admit('b').release(); // a search starting in the quiet time puts the collection off, then idles again
  await quiet();
  t.deepEqual(collected, [0], 'one collection after the burst');

  const c = admit('c');
  t.throws(() => admit('c'));
  c.release();
  await quiet();
  t.is(collected.length, 1, 'at most once per interval');
  now = 10_000;
  const d = admit('d');
  t.throws(() => admit('d'));
  d.release();
  await quiet();
  t.deepEqual(collected, [0, 10_000], 'again once the interval has passed');
  reclaim.stop();
});
