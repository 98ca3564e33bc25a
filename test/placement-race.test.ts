// The claim race: 6 scheduler PROCESSES (test/helpers/race-scheduler.ts, each with its own
// client and connection) race for the last units of a device kind across 100 rounds. Each
// round adds a host whose two VFs have one free unit each; every scheduler asks for one of
// them at the same moment (three per device). Exactly one claim wins per unit, no unit is
// ever claimed twice (the server's own count says so), and every loser gets ABORTED with
// reason CAPACITY_EXHAUSTED. Their latency is a bench figure, not asserted here.

import test from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startTestServer } from './helpers/server.ts';
import { gvt } from './helpers/integration.ts';

const SCHEDULERS = 6;
const ROUNDS = 100;

interface Outcome {
  claimId: string;
  won: boolean;
  code?: string;
  reason?: string;
}

function scheduler(address: string, name: string) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/race-scheduler.ts', address, name], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const waiting: ((outcome: Outcome) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as Outcome));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    ask(line: string): Promise<Outcome> {
      return new Promise<Outcome>((resolve, reject) => {
        waiting.push(resolve);
        exited.then((code) => reject(new Error(`scheduler ${name} exited (${code}): ${stderr}`)));
        child.stdin.write(`${line}\n`);
      });
    },
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

test('schedulers racing in separate processes never over-commit a unit: one winner per unit, losers CAPACITY_EXHAUSTED', async (t) => {
  t.timeout(300_000);
  const { client, server } = await startTestServer(t);
  const schedulers = Array.from({ length: SCHEDULERS }, (_, i) => scheduler(server.address, `scheduler-${i}`));
  t.teardown(() => Promise.all(schedulers.map((s) => s.stop())));
  const vf = gvt('1.0.0', { vendor: '15b3', type: 'mlx5-vf', attributes: {}, rules: {} });
  // Every scheduler is connected before the first round.
  await Promise.all(schedulers.map((s, i) => s.ask(`warmup vf0 warm-${i}`)));

  let losers = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const host = `hot-${round}`;
    await client.syncHost({
      name: `hosts/${host}`,
      devices: ['vf0', 'vf1'].map((id) => ({ device_id: id, descriptor: vf, capacity: { total: 8, available: 1 } })),
    });
    const outcomes = await Promise.all(schedulers.map((s, i) => s.ask(`${host} vf${i % 2} r${round}-s${i}`)));
    for (const device of [0, 1]) {
      const contenders = outcomes.filter((_, i) => i % 2 === device);
      const winners = contenders.filter((o) => o.won);
      if (winners.length !== 1) t.fail(`round ${round} vf${device}: ${winners.length} winners`);
      for (const loser of contenders.filter((o) => !o.won)) {
        losers++;
        if (loser.code !== 'ABORTED' || loser.reason !== 'CAPACITY_EXHAUSTED') t.fail(`round ${round}: a loser got ${loser.code}/${loser.reason}`);
      }
      const claimed = server.registry.claimedOn(host, `vf${device}`);
      if (claimed !== 1) t.fail(`round ${round} vf${device}: ${claimed} units claimed of 1`);
    }
  }
  t.is(losers, ROUNDS * (SCHEDULERS - 2));
  const live = [];
  for await (const claim of client.listClaims()) live.push(claim.name);
  t.is(live.filter((name) => name.startsWith('hosts/hot-')).length, ROUNDS * 2, 'exactly one live claim per unit');
});
