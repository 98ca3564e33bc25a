// The PostgreSQL the suite runs against, when it does: `npm run test:postgres` starts a
// throwaway cluster and sets DEVCOMPAT_TEST_POSTGRES to its address (test/postgres/run.mts).
// Each test gets a fresh database in it, dropped at teardown, so tests stay hermetic.

import type { ExecutionContext } from 'ava';
import pg from 'pg';

/** The cluster's address when the suite runs on PostgreSQL; undefined under `npm test`. */
export const TEST_POSTGRES = process.env.DEVCOMPAT_TEST_POSTGRES;

let databases = 0;

/** A fresh database in `adminUrl`'s cluster (the test cluster by default), dropped at teardown. */
export async function testDatabase(t: ExecutionContext, adminUrl = TEST_POSTGRES): Promise<string> {
  if (!adminUrl) throw new Error('DEVCOMPAT_TEST_POSTGRES is not set: run the PostgreSQL tests with npm run test:postgres');
  const name = `devcompat_t${process.pid}_${++databases}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  t.teardown(() => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  // A server stopping meanwhile (57P01) fails the query; heard here, it cannot also end the test process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
