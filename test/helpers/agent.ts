// The recorded hosts of test/fixtures/sysfs/ and the agent run on them: in-process for the
// describe step, and as a real `devcompat agent` process for the end-to-end tests.

import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { replayCommands } from '../../agent/commands.ts';
import { takeInventory, type Inventory } from '../../agent/inventory.ts';
import { CLI, REPO_ROOT, spawnWithOutput, type ChildOutput } from './cli.ts';

export const SYSFS_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/sysfs');

/** The recorded hosts (directories with a `sys/` tree). */
export function recordedHosts(): string[] {
  return readdirSync(SYSFS_FIXTURES)
    .filter((entry) => statSync(path.join(SYSFS_FIXTURES, entry)).isDirectory())
    .sort();
}

/** The flags that make the agent read recorded host `name` (a fixture name, or a directory). */
export function hostFlags(name: string): string[] {
  const dir = path.isAbsolute(name) ? name : path.join(SYSFS_FIXTURES, name);
  return ['--sysfs-root', path.join(dir, 'sys'), '--replay-commands', path.join(dir, 'commands.json'), '--devices-dir', path.join(dir, 'devices.d')];
}

/** The describe step on a recorded host, as `agent describe` runs it. */
export function describeRecorded(name: string, options: { profilesDir?: string } = {}): Promise<Inventory> {
  const dir = path.isAbsolute(name) ? name : path.join(SYSFS_FIXTURES, name);
  return takeInventory({
    sysfsRoot: path.join(dir, 'sys'),
    devicesDir: path.join(dir, 'devices.d'),
    profilesDir: options.profilesDir,
    runCommand: replayCommands(path.join(dir, 'commands.json')),
  });
}

/** A copy of a recorded host that a test may change (symlinks copied as symlinks). */
export function copyHost(t: ExecutionContext, name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-host-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, name);
  cpSync(path.join(SYSFS_FIXTURES, name), copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}

/** How long a test waits for an agent's log line: generous, as the suite shares two cores with everything else. */
export const AGENT_WAIT_MS = 90_000;

/**
 * `devcompat agent ...` as a long-running process with JSON logs on stdout; killed at teardown.
 * Its waitForLine waits up to AGENT_WAIT_MS: a wait on an event, bounded for a broken agent.
 */
export function spawnAgent(t: ExecutionContext, address: string, args: string[], env: Record<string, string> = {}): ChildOutput {
  const agent = spawnWithOutput(process.execPath, [CLI, '--address', address, 'agent', '--log-level', 'debug', ...args], { env });
  t.teardown(() => {
    if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
  });
  return { ...agent, waitForLine: (predicate, timeoutMs = AGENT_WAIT_MS) => agent.waitForLine(predicate, timeoutMs) };
}

/** A JSON log line of the agent with this message (and these fields), parsed. */
export function logLine(message: string, fields: Record<string, unknown> = {}) {
  return (line: string): boolean => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      return false;
    }
    return entry.msg === message && Object.entries(fields).every(([key, value]) => entry[key] === value);
  };
}
