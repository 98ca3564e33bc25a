// Drives programs as a user would: the `devcompat` CLI, the server's `npm start` entry point and
// third-party clients, each as its own process (no shell), with output captured.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer, type ServerOptions } from '../../server/server.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(REPO_ROOT, 'bin/devcompat.js');
export const CLI_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/cli');
export const BUF = path.join(REPO_ROOT, 'node_modules/.bin/buf');

/** A fixture of test/fixtures/cli. */
export const fixture = (name: string) => path.join(CLI_FIXTURES, name);

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a user's shell would give, minus any devcompat setting of the host running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('DEVCOMPAT_') || key === 'NODE_OPTIONS') delete env[key];
  return { ...env, ...extra };
}

/** Runs a program to completion; never rejects on a non-zero exit. */
export function run(
  file: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(options.env), timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        if (failure && typeof failure.code === 'string') return reject(failure); // could not start at all
        resolve({
          code: failure ? ((failure.code as unknown as number | undefined) ?? null) : 0,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** `devcompat <args>` against `address` (added as `--address` unless null). */
export function devcompat(
  address: string | null,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ProcessResult> {
  return run(process.execPath, [CLI, ...(address === null ? [] : ['--address', address]), ...args], options);
}

/** Non-empty lines of some output. */
export const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

/** The JSON objects of a `--json` stream or list: one per line. */
export const jsonLines = (text: string) => lines(text).map((line) => JSON.parse(line) as any);

/**
 * A server shared by the tests of one file (hooks cannot use `t.teardown`): a real server on
 * 127.0.0.1:0 with a fresh database in its own temp dir; `close()` removes both.
 */
export async function startSharedServer(
  options: Partial<ServerOptions> = {},
): Promise<{ server: RunningServer; address: string; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-cli-'));
  // Hour-long leases, as startTestServer (9a3ad81): under load a file of CLI tests outlasts 30 s.
  const server = await startServer({ address: '127.0.0.1:0', leaseTtlMs: 3_600_000, ...options, dbPath: path.join(dir, 'registry.db') });
  return {
    server,
    address: server.address,
    dir,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A long-running child whose stdout is read line by line. */
export interface ChildOutput {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout line `predicate` accepts; rejects if the child exits first. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnWithOutput(file: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ChildOutput {
  const child = spawn(file, args, { cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const split = (sink: string[], notify: boolean) => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        sink.push(line);
        if (notify) for (const listener of listeners) listener(line);
      }
    };
  };
  child.stdout!.on('data', split(stdout, true));
  child.stderr!.on('data', split(stderr, false));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLine(predicate, timeoutMs = 15_000) {
      const seen = stdout.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no such line within ${timeoutMs} ms; stdout: ${stdout.join('\n')}; stderr: ${stderr.join('\n')}`)), timeoutMs);
        const listener = (line: string) => {
          if (predicate(line)) finish(undefined, line);
        };
        const finish = (error?: Error, line?: string) => {
          clearTimeout(timer);
          listeners.delete(listener);
          if (error) reject(error);
          else resolve(line!);
        };
        listeners.add(listener);
        void exited.then(({ code, signal }) =>
          finish(new Error(`exited (code ${code}, signal ${signal}) first; stdout: ${stdout.join('\n')}; stderr: ${stderr.join('\n')}`)),
        );
      });
    },
  };
}
