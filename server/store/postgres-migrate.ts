// Applies migrations/postgres/NNNN_snake_case.sql at start-up, as migrate.ts does for SQLite:
// in order, each in its own transaction, recorded with a checksum in schema_migrations; a
// database with a migration this binary does not know, or whose shipped migration changed, is
// refused. Several replicas may start at once: a transaction-level advisory lock makes one of
// them migrate while the others wait and then find the work done.

import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { checkRecorded, readMigrations, type Migration, type MigrationReport } from './migrate.ts';

export const POSTGRES_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/postgres/', import.meta.url));

/** The advisory lock key that serializes migrations (any constant no other lock uses). */
const MIGRATION_LOCK = 7_341_001;

export async function migratePostgres(
  client: pg.ClientBase,
  migrations: readonly Migration[] = readMigrations(POSTGRES_MIGRATIONS_DIR),
): Promise<MigrationReport> {
  const applied: string[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version       INTEGER NOT NULL CONSTRAINT schema_migrations_pk PRIMARY KEY,
      name          TEXT    NOT NULL,
      checksum      TEXT    NOT NULL,
      applied_at_ms BIGINT  NOT NULL)`);
    const recorded = (await client.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows as {
      version: number;
      name: string;
      checksum: string;
    }[];
    checkRecorded(recorded, migrations);
    await client.query('COMMIT');
    const done = new Set(recorded.map((row) => row.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      const label = `${String(migration.version).padStart(4, '0')}_${migration.name}`;
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        // Another replica may have applied it while this one waited for the lock.
        const again = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
        if (again.rowCount === 0) {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) VALUES ($1, $2, $3, $4)', [
            migration.version,
            migration.name,
            migration.checksum,
            Date.now(),
          ]);
          applied.push(label);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const cause = error instanceof Error ? error.message : String(error);
        throw new Error(`migration ${label} failed (nothing of it was applied): ${cause}`, { cause: error });
      }
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return { applied, version: migrations.at(-1)?.version ?? 0 };
}
