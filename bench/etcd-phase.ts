// The etcd phase of the benchmark: the peer devcompat must beat, measured in the same run on the
// same machine. A throwaway single-member etcd (Debian's `etcd-server`, 3.4) is started on
// loopback on free ports with its data in a folder of the bench's temporary directory; the same
// fleet as devcompat's sync phase is registered into it, one transaction of one put per device
// per host (key `/devcompat/hosts/<host>/devices/<device>`, value the device's descriptor as
// protobuf bytes), 64 transactions in flight, through the `etcd3` client from npm; then etcd is
// stopped and its data removed. Without an etcd binary the phase says so and is skipped.
//
// Like the sync phase, everything that can be prepared is prepared before the clock starts
// (keys and values as Buffers); the etcd3 client still encodes each TxnRequest with
// proto-loader when it sends it, which costs the load generator CPU inside the measured window
// (the result's CPU note shows how much). etcd acknowledges a transaction once its WAL entry is
// fsynced, as devcompat's durability `full` acknowledges a SyncHost after its commit is durable.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { Etcd3, type IRequestOp } from 'etcd3';
import { protoRoot } from '../proto/load.ts';
import { generateFleet, type FleetSpec } from './fleet.ts';
import { readMemory } from './processes.ts';
import { withCpu, type CpuUse, type SyncResult } from './load.ts';
import { fmt, nowMs, summarize, type LatencySummary } from './stats.ts';

export const ETCD_KEY_PREFIX = '/devcompat/hosts/';

/** One host's transaction, encoded before the clock starts. */
export interface EtcdHostTxn {
  readonly hostId: string;
  readonly puts: readonly { readonly key: Buffer; readonly value: Buffer }[];
}

export interface EtcdRun {
  readonly version: string;
  readonly hosts: number;
  readonly txnsCommitted: number;
  readonly puts: number;
  readonly valueBytes: number;
  readonly failures: number;
  readonly firstError?: string;
  readonly timedOut: boolean;
  readonly seconds: number;
  readonly txnsPerSecond: number;
  readonly putsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** Keys under the prefix afterwards, counted by etcd (should equal `puts`). */
  readonly keysStored: number;
  /** etcd's resident memory right after the registration. */
  readonly rssBytes?: number;
  readonly cpu: CpuUse;
}

export type EtcdResult = { readonly skipped: string } | ({ readonly skipped?: undefined } & EtcdRun);

export interface EtcdParams {
  readonly binary: string;
  readonly spec: FleetSpec;
  /** A folder of the bench's temporary directory (same filesystem as devcompat's database). */
  readonly dataDir: string;
  readonly inFlight: number;
  readonly timeoutS: number;
  readonly log: (line: string) => void;
}

/** The etcd binary's version line, or undefined when there is no such binary. */
export function etcdVersion(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? out.split('\n')[0];
  } catch {
    return undefined;
  }
}

/** Each host's puts: the device's descriptor encoded as the API's `Descriptor` message. */
export function encodeEtcdTxns(spec: FleetSpec): EtcdHostTxn[] {
  const Descriptor = protoRoot().lookupType('devcompat.v1.Descriptor');
  return Array.from(generateFleet(spec), (host) => ({
    hostId: host.host_id,
    puts: host.devices.map((device) => ({
      key: Buffer.from(`${ETCD_KEY_PREFIX}${host.host_id}/devices/${device.device_id}`),
      value: Buffer.from(Descriptor.encode(Descriptor.fromObject(device.descriptor as object)).finish()),
    })),
  }));
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface EtcdProcess {
  readonly pid: number;
  readonly endpoint: string;
  tail(): string[];
  stop(): Promise<string>;
}

/**
 * Starts a single-member etcd on two free loopback ports and waits for its "ready to serve
 * client requests" log line. The process is killed if the bench exits without stopping it.
 */
async function startEtcd(binary: string, dataDir: string): Promise<EtcdProcess> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  mkdirSync(dataDir, { recursive: true });
  const child: ChildProcess = spawn(
    binary,
    [
      ...['--name', 'bench', '--data-dir', dataDir],
      ...['--listen-client-urls', client, '--advertise-client-urls', client],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', `bench=${peer}`, '--initial-cluster-state', 'new', '--initial-cluster-token', 'devcompat-bench'],
      ...['--listen-metrics-urls', '', '--log-level', 'info'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  let exit: string | undefined;
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ?? `exit code ${code}`;
      process.off('exit', killOnExit);
      resolve(exit);
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcd did not report ready within 30 s:\n${lines.join('\n')}`));
    }, 30_000);
    const onLine = (line: string) => {
      remember(line);
      if (line.includes('ready to serve client requests')) {
        clearTimeout(timer);
        resolve();
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`etcd exited (${how}) before serving:\n${lines.join('\n')}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  await ready;
  return {
    pid: child.pid!,
    endpoint: client,
    tail: () => [...lines],
    stop: async () => {
      if (exit !== undefined) return exit;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const how = await exited;
      clearTimeout(killer);
      return how;
    },
  };
}

/** Registers every host's transaction, `inFlight` at a time, bounded by `timeoutS`. */
async function registerFleet(client: Etcd3, txns: readonly EtcdHostTxn[], inFlight: number, timeoutS: number) {
  let next = 0;
  let txnsCommitted = 0;
  let puts = 0;
  let failures = 0;
  let firstError: string | undefined;
  let timedOut = false;
  const latencies: number[] = [];
  const start = nowMs();
  const deadline = start + timeoutS * 1000;
  const worker = async () => {
    for (;;) {
      if (nowMs() > deadline) {
        timedOut = true;
        return;
      }
      if (next >= txns.length) return;
      const txn = txns[next++];
      const success: IRequestOp[] = txn.puts.map((put) => ({ request_put: { key: put.key, value: put.value } }));
      const t0 = nowMs();
      try {
        const response = await client.kv.txn({ compare: [], success }, { deadline: Date.now() + 60_000 });
        if (!response.succeeded) throw new Error('transaction not applied');
        txnsCommitted++;
        puts += txn.puts.length;
      } catch (error) {
        failures++;
        firstError ??= `${txn.hostId}: ${(error as Error).message}`;
      }
      latencies.push(nowMs() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (nowMs() - start) / 1000;
  return { txnsCommitted, puts, failures, firstError, timedOut, seconds, latencyMs: summarize(latencies) };
}

/** The whole phase: start etcd, register the fleet, count what it stored, stop it. */
export async function measureEtcd(params: EtcdParams): Promise<EtcdResult> {
  const version = etcdVersion(params.binary);
  if (version === undefined) {
    const skipped = `no etcd binary "${params.binary}" (install it: apt-get install etcd-server, or pass --etcd-bin <path>)`;
    params.log(`etcd phase SKIPPED: ${skipped}`);
    return { skipped };
  }
  const txns = encodeEtcdTxns(params.spec);
  const valueBytes = txns.reduce((sum, txn) => sum + txn.puts.reduce((s, put) => s + put.value.length, 0), 0);
  const keyBytes = txns.reduce((sum, txn) => sum + txn.puts.reduce((s, put) => s + put.key.length, 0), 0);
  params.log(
    `prepared ${fmt(txns.length)} transactions, ${fmt(txns.reduce((sum, txn) => sum + txn.puts.length, 0))} puts ` +
      `(values ${fmt(valueBytes / 1e6, 1)} MB, keys ${fmt(keyBytes / 1e6, 1)} MB) before the clock starts`,
  );
  const etcd = await startEtcd(params.binary, params.dataDir);
  params.log(`etcd ${version} pid ${etcd.pid} at ${etcd.endpoint}, data in ${params.dataDir}`);
  const client = new Etcd3({ hosts: etcd.endpoint });
  try {
    const run = await withCpu(etcd.pid, () => registerFleet(client, txns, params.inFlight, params.timeoutS));
    const r = run.value;
    const rss = readMemory(etcd.pid)?.rssBytes;
    const keysStored = Number(await client.getAll().prefix(ETCD_KEY_PREFIX).count());
    return {
      version,
      hosts: txns.length,
      ...r,
      valueBytes,
      txnsPerSecond: r.txnsCommitted / r.seconds,
      putsPerSecond: r.puts / r.seconds,
      keysStored,
      rssBytes: rss,
      cpu: run.cpu,
    };
  } catch (error) {
    throw new Error(`etcd phase failed: ${(error as Error).message}\netcd's last lines:\n${etcd.tail().join('\n')}`);
  } finally {
    client.close();
    const how = await etcd.stop();
    if (how !== 'exit code 0' && how !== 'SIGTERM') params.log(`etcd stopped: ${how}`);
    rmSync(params.dataDir, { recursive: true, force: true });
  }
}


/** The results table's lines: etcd's time, and etcd's over devcompat's (target >= 2). */
export function etcdRows(etcd: EtcdResult, devcompat: SyncResult | undefined, inFlight: number, noise: (cpu: CpuUse | undefined) => string): string[][] {
  const label = `etcd registration of the same fleet, one transaction of 16 puts per host, ${inFlight} in flight`;
  if (etcd.skipped !== undefined) {
    return [[label, `SKIPPED: ${etcd.skipped}`, 'etcd / devcompat >= 2.00', '', 'SKIPPED', '']];
  }
  const complete = etcd.failures === 0 && !etcd.timedOut && etcd.keysStored === etcd.puts && etcd.txnsCommitted === etcd.hosts;
  const rows = [
    [
      `etcd ${etcd.version} registration of the same fleet, one transaction of 16 puts per host (descriptor bytes as values), ${inFlight} in flight`,
      `${fmt(etcd.seconds, 2)} s (${fmt(etcd.txnsPerSecond)} hosts/s, ${fmt(etcd.putsPerSecond)} puts/s; p50 ${fmt(etcd.latencyMs.p50, 1)} ms, p99 ${fmt(etcd.latencyMs.p99, 1)} ms; ${fmt(etcd.keysStored)} keys stored)` +
        (complete ? '' : ` INCOMPLETE: ${etcd.failures} failed${etcd.timedOut ? ', timed out' : ''}, ${fmt(etcd.keysStored)} of ${fmt(etcd.puts)} keys`),
      '',
      'measured in this run, after the sync',
      '',
      noise(etcd.cpu),
    ],
  ];
  if (devcompat) {
    const ratio = etcd.seconds / devcompat.seconds;
    const devcompatComplete = devcompat.failures === 0 && !devcompat.timedOut && devcompat.hostsSynced === devcompat.hosts;
    rows.push([
      '  registration time, etcd / devcompat (same run)',
      `${fmt(etcd.seconds, 2)} s / ${fmt(devcompat.seconds, 2)} s = ${fmt(ratio, 2)}` +
        (devcompat.cpu ? ` (the servers' CPU time: etcd ${fmt(etcd.cpu.serverCpuS, 1)} s / devcompat ${fmt(devcompat.cpu.serverCpuS, 1)} s = ${fmt(etcd.cpu.serverCpuS / devcompat.cpu.serverCpuS, 2)})` : ''),
      '>= 2.00',
      '',
      hit(complete && devcompatComplete && ratio >= 2),
      '',
    ]);
  }
  return rows;
}

const hit = (ok: boolean) => (ok ? 'HIT' : 'MISS');
