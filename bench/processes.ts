// Child processes of the benchmark: the devcompat server (server/main.ts) and the bare grpc-js
// baseline (bench/baseline-server.ts), which log JSON lines on stdout (the line announcing the
// bound address tells us one is serving); and the watch phase's watchers (bench/watchers.ts), a
// load process driven over an IPC channel. Stopping sends SIGTERM (or closes the IPC channel),
// waits for the exit, and falls back to SIGKILL after a grace period.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SEMI_SPACE_FLAG } from '../server/heap-settings.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Where the benchmark runs the devcompat server from: `dist`, the compiled build that `npm start`
 * and the packaged `devcompat serve` run (the default: what operators run), or `sources`, the
 * TypeScript through tsx (development; tsx compiles each module at start-up, in the server's
 * thread and again in its storage worker's).
 */
export type ServerBuild = 'dist' | 'sources';

/** Until `prepareServerBuild` chooses (bench/run.ts does, before any phase), tests that start
 *  phases directly run the sources, which need no build. */
let serverBuild: ServerBuild = 'sources';

/**
 * Chooses the server's build for the rest of the run; with `dist`, compiles it first
 * (`scripts/build.mjs`, incremental) so that the bench never measures a stale build.
 */
export function prepareServerBuild(build: ServerBuild, log: (line: string) => void = console.log): void {
  serverBuild = build;
  if (build !== 'dist') return;
  const started = Date.now();
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`npm run build failed (exit ${built.status ?? built.signal}): the bench runs the compiled server`);
  log(`server: the compiled build (dist/server/main.js, as \`npm start\` runs it), built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * `node` arguments that start the devcompat server (then its own flags: `--db`, `--address`, ...):
 * node's flags as every launch the project ships gives them (the young generation's size,
 * server/heap-settings.ts), then `nodeFlags` (a later flag wins, so an experiment's own
 * --max-semi-space-size is the one node uses), then the entry: `entry` (another build's
 * main.js) when given, else this checkout's in the chosen build.
 */
export function serverEntryArgs(nodeFlags: readonly string[] = [], entry?: string): string[] {
  const own = serverBuild === 'dist' ? ['dist/server/main.js'] : ['--import', 'tsx', 'server/main.ts'];
  return [SEMI_SPACE_FLAG, ...nodeFlags, ...(entry === undefined ? own : [entry])];
}

export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  /** `127.0.0.1:port` the child bound. */
  readonly address: string;
  /** The child's last log lines (stdout and stderr), for error reports. */
  tail(): string[];
  /** Log lines at level warn or above (pino levels >= 40) seen so far. */
  warnings(): number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<string>;
}

interface StartOptions {
  /** Label in messages. */
  readonly name: string;
  /** Arguments after `node`. */
  readonly args: readonly string[];
  /** The `msg` of the log line that carries `address`. */
  readonly readyMsg: string;
  readonly timeoutMs?: number;
}

/** Starts `node <args>` from the repository root and waits for its ready line. */
export function startChild(options: StartOptions): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [...options.args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let warnings = 0;
  let exit: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ?? `exit code ${code}`;
      resolve(exit);
    });
  });
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };

  return new Promise<ChildServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} did not report its address within ${options.timeoutMs ?? 30_000} ms:\n${lines.join('\n')}`));
    }, options.timeoutMs ?? 30_000);
    let ready = false;
    createInterface({ input: child.stderr! }).on('line', remember);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line);
      let record: { msg?: string; address?: string; level?: number } | undefined;
      try {
        record = JSON.parse(line);
      } catch {
        return;
      }
      if ((record?.level ?? 0) >= 40) warnings++;
      if (!ready && record?.msg === options.readyMsg && typeof record.address === 'string') {
        ready = true;
        clearTimeout(timer);
        const address = record.address;
        resolve({
          name: options.name,
          pid: child.pid!,
          address,
          tail: () => [...lines],
          warnings: () => warnings,
          alive: () => exit === undefined,
          stop: async (graceMs = 10_000) => {
            if (exit !== undefined) return exit;
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            const how = await exited;
            clearTimeout(killer);
            return how;
          },
        });
      }
    });
    void exited.then((how) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (${how}) before serving:\n${lines.join('\n')}`));
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface MemoryReading {
  /** Resident set size now, in bytes. */
  readonly rssBytes: number;
  /** Peak resident set size so far, in bytes. */
  readonly hwmBytes: number;
}

/** VmRSS and VmHWM of a process, from /proc (Linux only). */
export function readMemory(pid: number): MemoryReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // /proc's "kB" are KiB.
  const bytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: bytes('VmRSS'), hwmBytes: bytes('VmHWM') };
}

/** User + system CPU time of a process so far, in seconds (Linux only). */
export function readCpuSeconds(pid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/stat`);
}

/**
 * User + system CPU time of one thread of a process so far, in seconds (Linux only). The main
 * thread's (tid = pid) is the serial part of a server's start: on an idle machine its wall time
 * cannot be shorter.
 */
/**
 * A thread's CPU time so far in milliseconds, to the nanosecond (/proc's schedstat), where
 * readThreadCpuSeconds counts clock ticks of 10 ms: for work of a few milliseconds.
 */
export function readThreadCpuMs(pid: number, tid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

export function readThreadCpuSeconds(pid: number, tid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/task/${tid}/stat`);
}

function cpuSecondsOf(statFile: string): number | undefined {
  try {
    const stat = readFileSync(statFile, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * A process and its children now (PostgreSQL's postmaster and its backends, checkpointer, WAL
 * writer...), from /proc (Linux only; just `pid` elsewhere).
 */
export function withChildPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [pid];
  }
  const children: number[] = [];
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The parent pid is the second field after the command name (which may hold spaces).
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return [pid, ...children];
}

/** CPU seconds all processes of the machine have used (busy time over every CPU, Linux only). */
export function readMachineBusySeconds(): number | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest...: busy is user+nice+system+irq+softirq
    // (guest time is already counted in user).
    const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6];
    return busy / 100;
  } catch {
    return undefined;
  }
}

/** A load process of the benchmark's own (bench/watchers.ts), driven over its IPC channel. */
export interface LoadChild {
  readonly name: string;
  readonly pid: number;
  /** Sends a command and resolves with the child's answer to it. */
  request<T>(command: { type: string } & Record<string, unknown>, timeoutMs?: number): Promise<T>;
  tail(): string[];
  stop(graceMs?: number): Promise<string>;
}

/**
 * Starts `node <args>` with an IPC channel and waits for its `{type: 'ready'}` message. Each
 * command carries an id; the child answers `{id, value}` or `{id, error}`.
 */
export function startLoadChild(options: { name: string; args: readonly string[]; timeoutMs?: number }): Promise<LoadChild> {
  const child: ChildProcess = spawn(process.execPath, [...options.args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  createInterface({ input: child.stdout! }).on('line', remember);
  createInterface({ input: child.stderr! }).on('line', remember);
  let exit: string | undefined;
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ?? `exit code ${code}`;
      resolve(exit);
    }),
  );
  const waiting = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  void exited.then((how) => {
    for (const { reject } of waiting.values()) reject(new Error(`${options.name} exited (${how}):\n${lines.join('\n')}`));
    waiting.clear();
  });
  return new Promise<LoadChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} was not ready within ${options.timeoutMs ?? 30_000} ms:\n${lines.join('\n')}`));
    }, options.timeoutMs ?? 30_000);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${how}) before it was ready:\n${lines.join('\n')}`));
    });
    child.on('message', (message: { type?: string; id?: number; value?: unknown; error?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({
          name: options.name,
          pid: child.pid!,
          tail: () => [...lines],
          request: <T>(command: { type: string } & Record<string, unknown>, timeoutMs = 120_000) =>
            new Promise<T>((resolveRequest, rejectRequest) => {
              if (exit !== undefined) {
                rejectRequest(new Error(`${options.name} has exited (${exit})`));
                return;
              }
              const id = nextId++;
              const timeout = setTimeout(() => {
                waiting.delete(id);
                rejectRequest(new Error(`${options.name} did not answer ${command.type} within ${timeoutMs} ms`));
              }, timeoutMs);
              waiting.set(id, {
                resolve: (value) => {
                  clearTimeout(timeout);
                  resolveRequest(value as T);
                },
                reject: (error) => {
                  clearTimeout(timeout);
                  rejectRequest(error);
                },
              });
              child.send({ ...command, id });
            }),
          stop: async (graceMs = 10_000) => {
            if (exit !== undefined) return exit;
            child.disconnect();
            const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            const how = await exited;
            clearTimeout(killer);
            return how;
          },
        });
        return;
      }
      const pending = message.id === undefined ? undefined : waiting.get(message.id);
      if (!pending) return;
      waiting.delete(message.id!);
      if (message.error !== undefined) pending.reject(new Error(`${options.name}: ${message.error}`));
      else pending.resolve(message.value);
    });
  });
}
