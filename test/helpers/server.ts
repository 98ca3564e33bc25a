// Hermetic test servers: a real server on 127.0.0.1:0 with a fresh SQLite file in its own
// temp dir, closed (and the dir removed) at teardown.

import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DevcompatClient, type ClientOptions } from '../../client/client.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../server/server.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { TEST_POSTGRES, testDatabase } from './postgres.ts';

export interface TestServer {
  readonly server: RunningServer;
  readonly client: DevcompatClient;
  readonly dbPath: string;
  readonly dir: string;
  /** Closes the server (not the dir) and starts a new one on the same database file. */
  restart(): Promise<TestServer>;
}

export function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startTestServer(
  t: ExecutionContext,
  options: Partial<ServerOptions> & { client?: Partial<ClientOptions>; dir?: string } = {},
): Promise<TestServer> {
  const dir = options.dir ?? tempDir(t);
  const dbPath = options.dbPath ?? path.join(dir, 'registry.db');
  // Hour-long leases unless a test is about leases: on a slow machine a 30 s lapse would add
  // revisions that tests counting revisions do not expect.
  // Under `npm run test:postgres` the same suite runs on PostgreSQL: one database per dbPath.
  const store = options.store ?? (TEST_POSTGRES ? postgresStore({ url: await postgresFor(t, dbPath), startupChainCheck: options.startupChainCheck }) : undefined);
  const server = await startServer({ address: '127.0.0.1:0', leaseTtlMs: 3_600_000, ...options, dbPath, ...(store && { store }) });
  const client = new DevcompatClient({ address: server.address, ...options.client });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.close();
    await server.close();
  };
  t.teardown(close);
  return {
    server,
    client,
    dbPath,
    dir,
    async restart() {
      await close();
      return startTestServer(t, { ...options, dbPath, dir });
    },
  };
}

const postgresDatabases = new Map<string, Promise<string>>();

/** The PostgreSQL database standing for `dbPath` (created at first use, so a restart finds it). */
function postgresFor(t: ExecutionContext, dbPath: string): Promise<string> {
  let url = postgresDatabases.get(dbPath);
  if (!url) {
    url = testDatabase(t);
    postgresDatabases.set(dbPath, url);
  }
  return url;
}

/**
 * Starts a server on an existing file with the start-up chain check on, and stops it: resolves
 * to the refusal when the check refused the file, else undefined. Tests of the verifier itself
 * assert this first, then start with `startupChainCheck: 0` to ask VerifyHistory.
 */
export async function startupRefusal(t: ExecutionContext, dbPath: string, dir: string): Promise<Error | undefined> {
  return startTestServer(t, { dbPath, dir }).then(
    async (running) => {
      await running.server.close();
      return undefined;
    },
    (error: Error) => error,
  );
}
