// The registry as a separate process, started the way `npm start` starts it, for tests that
// must kill it (crash tests).

import { spawnWithOutput, type ChildOutput } from './cli.ts';

export interface ServerProcess extends ChildOutput {
  readonly address: string;
}

/** Starts `server/main.ts` with these flags and waits for its 'devcompat serving' line. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = spawnWithOutput(process.execPath, ['--import', 'tsx', 'server/main.ts', '--log-level', 'info', ...args], { env });
  // Generous: a server process compiles its TypeScript through tsx at start, which takes tens of
  // seconds on a loaded two-core machine. One that never serves is killed, so that it cannot
  // keep the test process alive.
  let line: string;
  try {
    line = await server.waitForLine((text) => text.includes('"msg":"devcompat serving"'), 60_000);
  } catch (error) {
    server.child.kill('SIGKILL');
    throw error;
  }
  return { ...server, address: (JSON.parse(line) as { address: string }).address };
}

/** Runs `server/main.ts` with these flags to its exit: its exit code, its fatal log line, and whether it ever served. */
export async function failedStart(args: string[]) {
  const child = spawnWithOutput(process.execPath, ['--import', 'tsx', 'server/main.ts', '--log-level', 'info', ...args]);
  const { code } = await child.exited;
  const lines = child.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    code,
    fatal: lines.find((line) => line.level === 60)?.msg as string | undefined,
    served: lines.some((line) => line.msg === 'devcompat serving'),
  };
}
