// Facts that only a vendor tool prints (NVIDIA's ECC mode, `devlink dev info` firmware) come
// from commands a profile names. This file runs them: no shell, a timeout, bounded output,
// each distinct command line at most once per describe pass (a PF's devlink info serves all its
// VFs). Tests and recorded hosts replay output recorded beside the fixture tree instead.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CommandResult {
  readonly stdout: string;
}

/** Runs one command line; rejects with an Error whose message says what went wrong. */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<CommandResult>;

export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Runs the real program, killed after `timeoutMs`. */
export const runCommand: CommandRunner = (argv, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(
      argv[0],
      argv.slice(1),
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout });
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
        if (failure.code === 'ENOENT') return reject(new Error(`${argv[0]}: not found`));
        if (failure.killed || failure.signal === 'SIGKILL') return reject(new Error(`timed out after ${timeoutMs} ms`));
        const detail = String(stderr).trim().split('\n')[0] ?? '';
        reject(new Error(`exited with ${failure.code ?? failure.signal}${detail ? `: ${detail}` : ''}`));
      },
    );
  });

/** A recording: command line (argv joined by spaces) -> what it printed, or how it failed. */
export type CommandRecording = Record<string, { stdout?: string; exit_code?: number; stderr?: string; timed_out?: boolean }>;

/**
 * Replays recorded output (`commands.json` beside a fixture tree); a command not recorded fails.
 * The file is read at each call, so a recording replaced on disk (a recorded upgrade) is seen.
 */
export function replayCommands(file: string): CommandRunner {
  return async (argv, timeoutMs) => {
    let recording: CommandRecording;
    try {
      recording = JSON.parse(readFileSync(file, 'utf8')) as CommandRecording;
    } catch (error) {
      throw new Error(`cannot read the recording ${file}: ${(error as Error).message}`);
    }
    const entry = recording[argv.join(' ')];
    if (!entry) throw new Error(`${argv[0]}: no recorded output for "${argv.join(' ')}"`);
    if (entry.timed_out) throw new Error(`timed out after ${timeoutMs} ms`);
    if (entry.exit_code) throw new Error(`exited with ${entry.exit_code}${entry.stderr ? `: ${entry.stderr.trim()}` : ''}`);
    return { stdout: entry.stdout ?? '' };
  };
}

/** Runs each distinct command line once; later calls share the first call's result. */
export function memoize(runner: CommandRunner): CommandRunner {
  const results = new Map<string, Promise<CommandResult>>();
  return (argv, timeoutMs) => {
    const key = JSON.stringify(argv);
    let result = results.get(key);
    if (!result) {
      result = runner(argv, timeoutMs);
      results.set(key, result);
    }
    return result;
  };
}
