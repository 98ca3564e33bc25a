// The agent's lease stream ended for good with a code other than UNAVAILABLE (here
// RESOURCE_EXHAUSTED: the connection already holds its one request stream, as a proxy or an
// overloaded registry may refuse it): the agent holds the lease again after a growing backoff,
// not at its next pass, which with the defaults often came after the lease had lapsed and the
// healthy host had turned UNREACHABLE. Against a real server, through the real client.

import test from 'ava';
import path from 'node:path';
import { replayCommands } from '../agent/commands.ts';
import { HostAgent } from '../agent/loop.ts';
import { SYSFS_FIXTURES } from './helpers/agent.ts';
import { capturedLog } from './helpers/log.ts';
import { startTestServer } from './helpers/server.ts';

const TTL_MS = 5000;
const REFUSED = 'lease stream failed; holding the lease again after a backoff';

test.serial('a lease stream refused with RESOURCE_EXHAUSTED is held again after a backoff, before the next pass: the host stays READY', async (t) => {
  // One request stream per connection, and the agent shares the test's client (one connection).
  const { client } = await startTestServer(t, { leaseTtlMs: TTL_MS, limits: { maxRequestStreamsPerConnection: 1 } });
  await client.syncHost({ name: 'hosts/blocker', devices: [] });
  const blocker = client.keepAlive();
  t.teardown(() => blocker.close());
  await blocker.renew('blocker'); // its stream now holds the connection's one place

  const host = path.join(SYSFS_FIXTURES, 'mlx-a');
  const log = capturedLog('debug');
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const agent = new HostAgent({
    host: 'mlx-a',
    intervalMs: 3_600_000, // the next pass is an hour away: only the backoff can hold the lease again
    labels: {},
    drainOnExit: false,
    once: false,
    inventory: { sysfsRoot: path.join(host, 'sys'), devicesDir: path.join(host, 'devices.d'), runCommand: replayCommands(path.join(host, 'commands.json')) },
    client,
    actor: 'agent@mlx-a',
    log: log.logger,
  });
  const running = agent.run(stop.signal);
  const synced = await log.waitFor('synced');

  // Refused, and tried again without a pass: each failure logged once, with its code and message.
  const first = await log.waitForLine((line) => line.msg === REFUSED, 1, 10_000);
  const second = await log.waitForLine((line) => line.msg === REFUSED, 2, 10_000);
  for (const refusal of [first, second]) {
    t.is(refusal.level, 50);
    t.is(refusal.code, 'RESOURCE_EXHAUSTED');
    t.is(typeof refusal.error, 'string');
    t.true(refusal.error.length > 0);
  }
  // Not hammered: the second stream came a backoff (at least half a second) after the first, and the wait grows.
  t.true(second.time - first.time >= 450, `${second.time - first.time} ms between two refused streams`);
  t.true(second.retry_in_ms >= first.retry_in_ms, `backoff ${first.retry_in_ms} then ${second.retry_in_ms} ms`);
  t.is(log.lines.filter((line) => line.msg === 'synced' || line.msg === 'unchanged').length, 1, 'no pass in between');

  // The place frees (the proxy or registry accepts again): the lease is renewed within the backoff.
  await blocker.close();
  const renewed = await log.waitFor('lease renewed', 10_000);
  t.is(renewed.state, 'HOST_STATE_READY');
  // Renewed at TTL/3 from then on: past the lease the sync gave, the host is still READY.
  await log.waitForLine((line) => line.msg === 'lease renewed', 4, 10_000);
  t.true(Date.now() - synced.time > TTL_MS, 'past the lease the sync gave');
  t.is((await client.getHost('hosts/mlx-a')).state, 'HOST_STATE_READY');
  const lapses = [];
  for await (const entry of client.history({ resource: 'hosts/mlx-a' })) if (/lease expired/.test(entry.reason)) lapses.push(entry);
  t.deepEqual(lapses, [], 'the lease never lapsed');
  stop.abort();
  await running;
});
