// The registry as a separate process, started the way `npm start` starts it, for tests that
// must kill it (crash tests).

import { SEMI_SPACE_FLAG } from '../../server/heap-settings.ts';
import { spawnWithOutput, type ChildOutput } from './cli.ts';

/** node's flags as `npm start` gives them (server/heap-settings.ts), then tsx for the sources. */
export const SERVER_NODE_ARGS = [SEMI_SPACE_FLAG, '--import', 'tsx'] as const;

export interface ServerProcess extends ChildOutput {
  readonly address: string;
}

/**
 * Starts `server/main.ts` with these flags and waits for its 'devcompat serving' line; node's
 * flags are npm start's unless `nodeArgs` gives others (tsx included).
 */
export async function spawnServer(args: string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = SERVER_NODE_ARGS): Promise<ServerProcess> {
  const server = spawnWithOutput(process.execPath, [...nodeArgs, 'server/main.ts', '--log-level', 'info', ...args], { env });
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
  const child = spawnWithOutput(process.execPath, [...SERVER_NODE_ARGS, 'server/main.ts', '--log-level', 'info', ...args]);
  const { code } = await child.exited;
  const lines = child.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    code,
    fatal: lines.find((line) => line.level === 60)?.msg as string | undefined,
    served: lines.some((line) => line.msg === 'devcompat serving'),
  };
}
