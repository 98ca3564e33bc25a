// The placement phase of the benchmark (issue 11): on the seeded fleet's server,
//  - FindPlacements for a 3-device VM (two vGPUs of the nvidia-525 source's kind and one mlx5
//    VF), sequential queries: time to the summary, p50/p99 (target p99 < 50 ms);
//  - CreateClaim throughput, 64 in flight, one unit each of distinct free vGPU devices (from
//    FindTargets with require_available), every claim released afterwards;
//  - 8 racing scheduler processes (bench/claim-racer.ts) on a hot kind (mlx5 VFs, one unit
//    each): each round all 8 claim the same free VF at once; one wins, 7 get ABORTED; the
//    losers' latency, the winners', and whether any round had other than one winner.
// Every loop is bounded in count and in time; the claims it makes are released at the end,
// so the phases after it see the fleet as it was.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DevcompatClient } from '../client/client.ts';
import { REPO_ROOT } from './processes.ts';
import { nowMs, summarize, type LatencySummary } from './stats.ts';

export interface PlacementParams {
  readonly address: string;
  /** The vGPU source (two units of its kind) and the VF source (one unit) of the VM. */
  readonly gpuSource: string;
  readonly nicSource: string;
  readonly queries: number;
  readonly warmup: number;
  readonly claims: number;
  readonly inFlight: number;
  readonly racers: number;
  readonly rounds: number;
  readonly timeoutS: number;
  readonly log: (line: string) => void;
}

export interface PlacementResult {
  readonly find: { readonly queries: number; readonly placements: number; readonly hostsExamined: number; readonly ms: LatencySummary; readonly timedOut: boolean };
  readonly claims: {
    readonly inFlight: number;
    readonly created: number;
    readonly failures: number;
    readonly claimsPerSecond: number;
    readonly ms: LatencySummary;
    readonly releasesPerSecond: number;
    readonly timedOut: boolean;
  };
  readonly race: {
    readonly racers: number;
    readonly rounds: number;
    /** Rounds where other than exactly one racer won (must be 0). */
    readonly badRounds: number;
    /** Losers refused with other than ABORTED / CAPACITY_EXHAUSTED (must be 0). */
    readonly otherErrors: number;
    readonly attemptsPerSecond: number;
    readonly winnerMs: LatencySummary;
    readonly loserMs: LatencySummary;
    readonly timedOut: boolean;
  };
}

interface Outcome {
  readonly claimId: string;
  readonly won: boolean;
  readonly ms: number;
  readonly code?: string;
  readonly reason?: string;
}

/** Free devices of the source's kind, as FindTargets with require_available streams them. */
async function freeTargets(client: DevcompatClient, source: string, limit: number): Promise<{ host: string; device: string }[]> {
  const out: { host: string; device: string }[] = [];
  for await (const item of client.findTargets(source, { requireAvailable: true, limit })) {
    if (!('target' in item)) continue;
    const [, host, , device] = item.target.name.split('/');
    out.push({ host, device });
  }
  return out;
}

function racer(address: string, name: string) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', 'bench/claim-racer.ts', address, name], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: ((outcome: Outcome) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as Outcome));
  child.stderr.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ask: (line: string) =>
      new Promise<Outcome>((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${line}\n`);
      }),
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function measurePlacement(params: PlacementParams): Promise<PlacementResult> {
  const client = new DevcompatClient({ address: params.address, actor: 'bench-scheduler' });
  const deadline = nowMs() + params.timeoutS * 1000;
  try {
    // FindPlacements, sequential.
    const vm = [
      { requestId: 'gpu', source: params.gpuSource, count: 2 },
      { requestId: 'nic', source: params.nicSource },
    ];
    const times: number[] = [];
    let placements = 0;
    let hostsExamined = 0;
    let findTimedOut = false;
    for (let i = 0; i < params.warmup + params.queries; i++) {
      if (nowMs() > deadline) {
        findTimedOut = true;
        break;
      }
      const started = nowMs();
      let count = 0;
      for await (const item of client.findPlacements(vm, { limit: 10 })) {
        if ('placement' in item) count++;
        if ('summary' in item) {
          placements = item.summary.placements;
          hostsExamined = item.summary.hosts_examined;
        }
      }
      if (i >= params.warmup) times.push(nowMs() - started);
      if (count === 0) throw new Error('FindPlacements found no host for the bench VM');
    }
    const find = { queries: times.length, placements, hostsExamined, ms: summarize(times), timedOut: findTimedOut };
    params.log(`FindPlacements (2 x vGPU + 1 VF): ${placements} hosts take the VM of ${hostsExamined} examined; p50 ${find.ms.p50.toFixed(2)} ms, p99 ${find.ms.p99.toFixed(2)} ms`);

    // CreateClaim throughput, `inFlight` at a time, on distinct free vGPU devices.
    const targets = (await freeTargets(client, params.gpuSource, params.claims)).slice(0, params.claims);
    const claimTimes: number[] = [];
    const created: { host: string; id: string }[] = [];
    let failures = 0;
    let next = 0;
    let claimsTimedOut = false;
    const claimStart = nowMs();
    const worker = async () => {
      while (next < targets.length) {
        if (nowMs() > deadline) {
          claimsTimedOut = true;
          return;
        }
        const index = next++;
        const { host, device } = targets[index];
        const id = `bench-${index}`;
        const started = nowMs();
        try {
          await client.claims.create(host, id, [{ device }], { ttlMs: 600_000 });
          claimTimes.push(nowMs() - started);
          created.push({ host, id });
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: params.inFlight }, worker));
    const claimSeconds = (nowMs() - claimStart) / 1000;
    const releaseStart = nowMs();
    let r = 0;
    await Promise.all(
      Array.from({ length: params.inFlight }, async () => {
        while (r < created.length) {
          const { host, id } = created[r++];
          await client.claims.release(`hosts/${host}/claims/${id}`).catch(() => undefined);
        }
      }),
    );
    const releaseSeconds = (nowMs() - releaseStart) / 1000;
    const claims = {
      inFlight: params.inFlight,
      created: created.length,
      failures,
      claimsPerSecond: created.length / claimSeconds,
      ms: summarize(claimTimes),
      releasesPerSecond: created.length / releaseSeconds,
      timedOut: claimsTimedOut,
    };
    params.log(
      `CreateClaim, ${params.inFlight} in flight: ${created.length} claims (${failures} failed) at ${claims.claimsPerSecond.toFixed(0)}/s, ` +
        `p50 ${claims.ms.p50.toFixed(2)} ms, p99 ${claims.ms.p99.toFixed(2)} ms; released at ${claims.releasesPerSecond.toFixed(0)}/s`,
    );

    // The race: `racers` processes, one free VF per round.
    const vfs = (await freeTargets(client, params.nicSource, params.rounds)).slice(0, params.rounds);
    const racers = Array.from({ length: params.racers }, (_, i) => racer(params.address, `racer-${i}`));
    const winners: number[] = [];
    const losers: number[] = [];
    const won: { host: string; id: string }[] = [];
    let badRounds = 0;
    let otherErrors = 0;
    let raceTimedOut = false;
    const raceStart = nowMs();
    try {
      for (const [round, { host, device }] of vfs.entries()) {
        if (nowMs() > deadline) {
          raceTimedOut = true;
          break;
        }
        const outcomes = await Promise.all(racers.map((rc, i) => rc.ask(`${host} ${device} race-${round}-${i}`)));
        const roundWinners = outcomes.filter((o) => o.won);
        if (roundWinners.length !== 1) badRounds++;
        for (const o of outcomes) {
          if (o.won) {
            winners.push(o.ms);
            won.push({ host, id: o.claimId });
          } else {
            losers.push(o.ms);
            if (o.code !== 'ABORTED' || o.reason !== 'CAPACITY_EXHAUSTED') otherErrors++;
          }
        }
      }
    } finally {
      await Promise.all(racers.map((rc) => rc.stop()));
    }
    const raceSeconds = (nowMs() - raceStart) / 1000;
    for (const { host, id } of won) await client.claims.release(`hosts/${host}/claims/${id}`).catch(() => undefined);
    const race = {
      racers: params.racers,
      rounds: winners.length === 0 && losers.length === 0 ? 0 : Math.round((winners.length + losers.length) / params.racers),
      badRounds,
      otherErrors,
      attemptsPerSecond: (winners.length + losers.length) / raceSeconds,
      winnerMs: summarize(winners),
      loserMs: summarize(losers),
      timedOut: raceTimedOut,
    };
    params.log(
      `Race, ${params.racers} scheduler processes x ${vfs.length} rounds on one free VF each: ${badRounds} rounds with other than one winner, ` +
        `${otherErrors} losers not ABORTED/CAPACITY_EXHAUSTED; losers p50 ${race.loserMs.p50.toFixed(2)} ms, p99 ${race.loserMs.p99.toFixed(2)} ms; ` +
        `winners p50 ${race.winnerMs.p50.toFixed(2)} ms, p99 ${race.winnerMs.p99.toFixed(2)} ms`,
    );
    return { find, claims, race };
  } finally {
    client.close();
  }
}
