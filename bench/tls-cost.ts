// The TLS-cost phase: what mutual TLS (with the authorization policy on, as in production,
// docs/security.md) costs CheckCompatibility and FindTargets, against plaintext, on the same
// fleet in the same run. Certificates are made at bench time with the real `openssl`, as the
// tests make them. The fleet's database is copied (VACUUM INTO, with its head anchor: one
// server per file) and a second server serves the copy with TLS; the same load runs against
// the plaintext fleet server, then against the TLS one, one after the other, each with its own
// warm-up. Both servers hold the same registry; only the transport and the per-call
// authorization differ.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { issue, issueServer, makeCa } from '../test/helpers/certs.ts';
import type { SourceShape } from './fleet-shape.ts';
import { findLoad, measureChecks, withCpu, type CheckParams, type CheckRun, type CpuUse, type FindParams, type FindRun, type Pair } from './load.ts';
import { serverEntryArgs, startChild, type ChildServer } from './processes.ts';
import { fmt, nowMs } from './stats.ts';

export interface TlsCostOptions {
  /** The plaintext fleet server and a client of it. */
  readonly plain: { readonly client: DevcompatClient; readonly pid: number };
  /** The fleet's database (copied for the TLS server) and a folder for the copy and the certificates. */
  readonly dbPath: string;
  readonly workDir: string;
  /** Arguments for the TLS server's node before the server's entry (experiments). */
  readonly serverNodeOptions: readonly string[];
  readonly durability: 'full' | 'relaxed';
  readonly pairs: readonly Pair[];
  readonly check: CheckParams;
  readonly sources: readonly SourceShape[];
  readonly find: FindParams;
  readonly log: (line: string) => void;
}

/** Sequential FindTargets over every source, timed as a whole for a throughput. */
export interface FindSeries {
  readonly runs: FindRun[];
  readonly queries: number;
  readonly queriesPerSecond: number;
  readonly cpu: CpuUse;
}

export interface TlsCostResult {
  readonly mode: string;
  readonly check: { readonly plain: CheckRun; readonly tls: CheckRun; readonly ratio: number };
  readonly find: { readonly plain: FindSeries; readonly tls: FindSeries; readonly ratio: number };
  /** Milliseconds to copy the fleet's database and start the TLS server on it (not measured load). */
  readonly setupMs: number;
}

/** A CA, the server's certificate for 127.0.0.1, and a scheduler's client certificate. */
function makeCertificates(dir: string) {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'bench-ca');
  const server = issueServer(dir, ca);
  const scheduler = issue(dir, ca, 'scheduler', ['URI:spiffe://bench.example/scheduler/bench']);
  const policy = path.join(dir, 'authz.json');
  writeFileSync(policy, JSON.stringify({ trust_domain: 'bench.example', bindings: [{ identity: 'scheduler:*', role: 'scheduler' }] }));
  return { ca, server, scheduler, policy };
}

/** A consistent copy of a database in use (the server keeps serving), with its head anchor. */
function copyDatabase(from: string, to: string): void {
  const db = openDatabase(from, { timeout: 5000 });
  try {
    db.exec(`VACUUM INTO '${to.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
  copyFileSync(`${from}.head`, `${to}.head`);
}

async function findSeries(client: DevcompatClient, pid: number, sources: readonly SourceShape[], params: FindParams): Promise<FindSeries> {
  const started = nowMs();
  const { value: runs, cpu } = await withCpu(pid, async () => {
    const all: FindRun[] = [];
    // The target p99 of the find phase does not apply here: 0 leaves it out.
    for (const source of sources) all.push(await findLoad(client, source, 0, params));
    return all;
  });
  const queries = runs.reduce((sum, run) => sum + run.queries, 0) + sources.length * params.warmup;
  return { runs, queries, queriesPerSecond: queries / ((nowMs() - started) / 1000), cpu };
}

export async function measureTlsCost(options: TlsCostOptions): Promise<TlsCostResult> {
  const { log } = options;
  const setupStart = nowMs();
  const certs = makeCertificates(path.join(options.workDir, 'tls'));
  const copy = path.join(options.workDir, 'tls-copy.db');
  copyDatabase(options.dbPath, copy);
  let server: ChildServer | undefined;
  let client: DevcompatClient | undefined;
  try {
    server = await startChild({
      name: 'TLS server',
      args: [
        ...serverEntryArgs(options.serverNodeOptions), ...['--db', copy, '--address', '127.0.0.1:0', '--durability', options.durability],
        ...['--lease-ttl', '1d', '--log-level', 'info'],
        ...['--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--client-ca', certs.ca.cert, '--authz', certs.policy],
      ],
      readyMsg: 'devcompat serving',
      timeoutMs: 120_000,
    });
    const setupMs = nowMs() - setupStart;
    log(`TLS server pid ${server.pid} at ${server.address} on a copy of the fleet's database (copied and started in ${fmt(setupMs)} ms)`);
    client = new DevcompatClient({
      address: server.address,
      tls: { caFile: certs.ca.cert, certFile: certs.scheduler.cert, keyFile: certs.scheduler.key },
    });

    const plainCheck = await measureChecks(options.plain.client, options.plain.pid, options.pairs, options.check);
    const tlsCheck = await measureChecks(client, server.pid, options.pairs, options.check);
    const checkLine = (label: string, run: CheckRun) =>
      `CheckCompatibility ${label}: ${fmt(run.callsPerSecond)} calls/s; p50 ${fmt(run.latencyMs.p50, 2)} ms, p99 ${fmt(run.latencyMs.p99, 2)} ms; ${run.errors} errors${run.firstError ? ` (${run.firstError})` : ''}`;
    log(checkLine('plaintext ', plainCheck));
    log(checkLine('mutual TLS', tlsCheck));

    const plainFind = await findSeries(options.plain.client, options.plain.pid, options.sources, options.find);
    const tlsFind = await findSeries(client, server.pid, options.sources, options.find);
    const findLine = (label: string, series: FindSeries) =>
      `FindTargets ${label}: ${fmt(series.queriesPerSecond)} queries/s; last message p50 ${series.runs.map((r) => `${r.source} ${fmt(r.lastMs.p50, 2)}`).join(', ')} ms`;
    log(findLine('plaintext ', plainFind));
    log(findLine('mutual TLS', tlsFind));
    if (tlsCheck.errors > 0 || tlsCheck.calls === 0) throw new Error(`the TLS server answered no check: ${tlsCheck.firstError ?? 'no calls'}`);
    return {
      mode: 'mutual TLS, authorization policy on (EC P-256 certificates)',
      check: { plain: plainCheck, tls: tlsCheck, ratio: tlsCheck.callsPerSecond / plainCheck.callsPerSecond },
      find: { plain: plainFind, tls: tlsFind, ratio: tlsFind.queriesPerSecond / plainFind.queriesPerSecond },
      setupMs,
    };
  } finally {
    client?.close();
    await server?.stop();
  }
}

/** The results table's lines: throughput and latency with and without TLS, and their ratio (no target: a cost to know). */
export function tlsCostRows(r: TlsCostResult, check: CheckParams, find: FindParams, noise: (cpu: CpuUse | undefined) => string): string[][] {
  const latencies = (run: CheckRun) => `p50 ${fmt(run.latencyMs.p50, 2)} ms, p99 ${fmt(run.latencyMs.p99, 2)} ms`;
  const findLatency = (series: FindSeries) =>
    `last p99 ${series.runs.map((run) => fmt(run.lastMs.p99, 2)).join(' / ')} ms`;
  return [
    [
      `TLS cost: CheckCompatibility, ${check.inFlight} in flight, ${check.seconds} s each; ${r.mode} / plaintext`,
      `${fmt(r.check.tls.callsPerSecond)} / ${fmt(r.check.plain.callsPerSecond)} calls/s = ${fmt(r.check.ratio, 2)} ` +
        `(TLS ${latencies(r.check.tls)}; plaintext ${latencies(r.check.plain)})`,
      'reported',
      '',
      '',
      noise(r.check.tls.cpu),
    ],
    [
      `TLS cost: FindTargets, ${r.find.tls.runs.map((run) => run.source).join(', ')}, ${find.warmup} + ${find.queries} sequential queries each, limit ${find.limit}`,
      `${fmt(r.find.tls.queriesPerSecond)} / ${fmt(r.find.plain.queriesPerSecond)} queries/s = ${fmt(r.find.ratio, 2)} ` +
        `(TLS ${findLatency(r.find.tls)}; plaintext ${findLatency(r.find.plain)})`,
      'reported',
      '',
      '',
      noise(r.find.tls.cpu),
    ],
  ];
}
