// The agent's phase of the benchmark (`npm run bench -- --only agent`): a 64-device host written
// in the kernel's sysfs layout (4 GVT-g types, 32 mlx5 VFs on two PFs, 16 QAT VFs, 12 virtio-net
// VFs), a registry of its own, and the real `devcompat agent` process looking at the host every
// 100 ms. It reports the describe time of each pass (discovery, profiles, facts, descriptors;
// the agent logs it) and the agent's resident memory after the passes. Bounded: 100 passes or
// 60 s, whichever comes first.
//
//   npx tsx bench/agent.ts       (the phase alone)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SysfsTree } from '../test/helpers/sysfs-tree.ts';
import { readMemory, REPO_ROOT, serverEntryArgs, startChild } from './processes.ts';
import { fmt, summarize, type LatencySummary } from './stats.ts';

export interface AgentBenchResult {
  readonly devices: number;
  readonly passes: number;
  /** Describe time of the passes after the first (the first loads the profiles' code paths cold). */
  readonly describeMs: LatencySummary;
  readonly firstDescribeMs: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
}

const PASSES = 100;
const TIME_LIMIT_MS = 60_000;

/** Writes the 64-device host under `dir`; returns its root. */
export function writeBenchHost(dir: string): string {
  const root = path.join(dir, 'bench-64');
  const tree = new SysfsTree(root).kernel('6.13.4-200.fc41.x86_64');
  tree.pci('0000:00:02.0', { vendor: '8086', device: '3e92', class: '0x030000', driver: 'i915', iommuGroup: 0 });
  for (const [n, low, high] of [[1, 512, 2048], [2, 256, 1024], [4, 128, 512], [8, 64, 384]]) {
    tree.mdevType('0000:00:02.0', `i915-GVTg_V5_${n}`, {
      name: `GVTg_V5_${n}`,
      description: `low_gm_size: ${low}MB\nhigh_gm_size: ${high}MB\nfence: 4\nresolution: 1920x1200\nweight: ${16 / n}`,
      availableInstances: n,
    });
  }
  const commands: Record<string, { stdout: string }> = {};
  let group = 10;
  for (const bus of ['3b', '5e']) {
    const pf = `0000:${bus}:00.0`;
    tree.pci(pf, { vendor: '15b3', device: '1021', class: '0x020000', driver: 'mlx5_core', iommuGroup: group++ });
    for (let vf = 0; vf < 16; vf++) {
      tree.pci(`0000:${bus}:${String(1 + (vf >> 3)).padStart(2, '0')}.${vf & 7}`, { vendor: '15b3', device: '101e', class: '0x020000', driver: 'mlx5_vfio_pci', iommuGroup: group++, physfn: pf });
    }
    commands[`devlink -j dev info pci/${pf}`] = {
      stdout: JSON.stringify({ info: { [`pci/${pf}`]: { driver: 'mlx5_core', versions: { fixed: { 'fw.psid': 'MT_0000000838' }, running: { 'fw.version': '28.41.1000' } } } } }),
    };
  }
  tree.pci('0000:6b:00.0', { vendor: '8086', device: '4940', class: '0x0b4000', driver: '4xxx', module: 'qat_4xxx', iommuGroup: group++, files: { 'qat/cfg_services': 'sym;asym\n' } });
  for (let vf = 0; vf < 16; vf++) {
    tree.pci(`0000:6b:${String(1 + (vf >> 3)).padStart(2, '0')}.${vf & 7}`, { vendor: '8086', device: '4941', class: '0x0b4000', driver: 'qat_vfio_pci', iommuGroup: group++, physfn: '0000:6b:00.0' });
  }
  commands['qat-vf-info 0000:6b:00.0'] = { stdout: JSON.stringify({ capabilities: ['asym', 'cipher', 'auth'], extended_dc_capabilities: [], sla: { cir: 1000, pir: 2000 }, pfvf_compat_version: 4 }) };
  tree.pci('0000:17:00.0', { vendor: '1af4', device: '1041', class: '0x020000', driver: 'virtio-pci', iommuGroup: group++, files: { 'virtio0/features': `${'1'.repeat(34)}${'0'.repeat(30)}\n`, 'virtio0/net/ens1f0/mtu': '9000\n' } });
  for (let vf = 0; vf < 12; vf++) {
    tree.pci(`0000:17:${String(1 + (vf >> 3)).padStart(2, '0')}.${vf & 7}`, { vendor: '1af4', device: '1041', class: '0x020000', driver: 'virtio_vfio_pci', iommuGroup: group++, physfn: '0000:17:00.0' });
  }
  writeFileSync(path.join(root, 'commands.json'), JSON.stringify(commands));
  return root;
}

export async function measureAgent(log: (line: string) => void): Promise<AgentBenchResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'devcompat-bench-agent-'));
  const root = writeBenchHost(dir);
  const server = await startChild({
    name: 'agent phase server',
    args: [...serverEntryArgs(), '--db', path.join(dir, 'agent.db'), '--address', '127.0.0.1:0', '--lease-ttl', '1h', '--log-level', 'info'],
    readyMsg: 'devcompat serving',
  });
  const agent = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin/devcompat.js'),
      ...['--address', server.address, 'agent', '--host', 'bench-64', '--interval', '100ms', '--log-level', 'debug'],
      ...['--sysfs-root', path.join(root, 'sys'), '--replay-commands', path.join(root, 'commands.json'), '--devices-dir', path.join(root, 'devices.d')],
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const times: number[] = [];
    let devices = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent made ${times.length} passes in ${TIME_LIMIT_MS} ms`)), TIME_LIMIT_MS);
      agent.once('exit', (code, signal) => reject(new Error(`the agent exited (${code ?? signal}) after ${times.length} passes`)));
      createInterface({ input: agent.stdout! }).on('line', (line) => {
        let entry: { msg?: string; describe_ms?: number; devices?: number };
        try {
          entry = JSON.parse(line);
        } catch {
          return;
        }
        if ((entry.msg === 'synced' || entry.msg === 'unchanged') && typeof entry.describe_ms === 'number') {
          times.push(entry.describe_ms);
          devices = entry.devices ?? devices;
          if (times.length >= PASSES) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    });
    const memory = readMemory(agent.pid!);
    const result: AgentBenchResult = {
      devices,
      passes: times.length,
      firstDescribeMs: times[0],
      describeMs: summarize([...times.slice(1)].sort((a, b) => a - b)),
      rssBytes: memory?.rssBytes ?? Number.NaN,
      hwmBytes: memory?.hwmBytes ?? Number.NaN,
    };
    log(
      `agent: ${result.devices} devices, ${result.passes} passes; describe p50 ${fmt(result.describeMs.p50, 1)} ms, p99 ${fmt(result.describeMs.p99, 1)} ms (first ${fmt(result.firstDescribeMs, 1)} ms); RSS ${fmt(result.rssBytes / 1e6)} MB (peak ${fmt(result.hwmBytes / 1e6)} MB)`,
    );
    return result;
  } finally {
    agent.kill('SIGTERM');
    await new Promise((resolve) => (agent.exitCode !== null || agent.signalCode !== null ? resolve(undefined) : agent.once('exit', resolve)));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The phase's lines of the results table: benchmark, measured, target, comparison, result, noise. */
export function agentRows(r: AgentBenchResult): string[][] {
  return [
    [
      `Agent describe, ${r.devices}-device host (sysfs tree, shipped profiles), ${r.passes - 1} passes`,
      `p50 ${fmt(r.describeMs.p50, 1)} ms, p99 ${fmt(r.describeMs.p99, 1)} ms (first pass ${fmt(r.firstDescribeMs, 1)} ms)`,
      '',
      '',
      '',
      '',
    ],
    ['Agent RSS after the passes', `${fmt(r.rssBytes / 1e6)} MB (peak ${fmt(r.hwmBytes / 1e6)} MB)`, '', '', '', ''],
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const result = await measureAgent(console.log);
  for (const row of agentRows(result)) console.log(row.filter(Boolean).join(': '));
}
