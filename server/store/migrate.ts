// Applies migrations/NNNN_snake_case.sql in order at start-up, each in its own transaction,
// and records each with a checksum. A database that has a migration this binary does not
// know (a newer version wrote it) or whose shipped migration text changed is refused:
// starting anyway could silently corrupt it.

import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration file ${file} is not named NNNN_snake_case.sql`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2],
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly version: number;
}

/**
 * Refuses a database that has a migration this binary does not know (a newer version wrote
 * it) or whose shipped migration text changed. Shared by the SQLite and PostgreSQL runners.
 */
export function checkRecorded(
  recorded: readonly { readonly version: number; readonly name: string; readonly checksum: string }[],
  migrations: readonly Migration[],
): void {
  const known = new Map(migrations.map((migration) => [migration.version, migration]));
  for (const row of recorded) {
    const migration = known.get(row.version);
    if (!migration) {
      throw new Error(
        `the database has migration ${row.version} (${row.name}), which this version of devcompat does not know: it was written by a newer version`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new Error(`migration ${row.version} (${row.name}) differs from the one applied to this database: shipped migrations must never be edited`);
    }
  }
}

export function migrate(db: Database.Database, migrations = readMigrations()): MigrationReport {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version       INTEGER NOT NULL CONSTRAINT schema_migrations_pk PRIMARY KEY,
    name          TEXT    NOT NULL,
    checksum      TEXT    NOT NULL,
    applied_at_ms INTEGER NOT NULL
  ) STRICT`);
  const recorded = db
    .prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
    .all() as { version: number; name: string; checksum: string }[];
  checkRecorded(recorded, migrations);
  const done = new Set(recorded.map((row) => row.version));
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) VALUES (?, ?, ?, ?)',
  );
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        record.run(migration.version, migration.name, migration.checksum, Date.now());
      })();
    } catch (error) {
      // The migration is named: "table hosts already exists" alone does not say what failed.
      const cause = error instanceof Error ? error.message : String(error);
      throw new Error(`migration ${String(migration.version).padStart(4, '0')}_${migration.name} failed (nothing of it was applied): ${cause}`, {
        cause: error,
      });
    }
    applied.push(`${String(migration.version).padStart(4, '0')}_${migration.name}`);
  }
  return { applied, version: migrations.at(-1)?.version ?? 0 };
}

/** A read-only open cannot migrate: the file must hold every migration already (a backup of this version does). */
export function migratedAlready(db: Database.Database, dbPath: string): MigrationReport {
  const migrations = readMigrations();
  let recorded: { version: number; name: string; checksum: string }[];
  try {
    recorded = db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as typeof recorded;
  } catch (error) {
    throw new Error(`${dbPath} is not a devcompat database: ${(error as Error).message}`);
  }
  checkRecorded(recorded, migrations);
  const missing = migrations.filter((migration) => !recorded.some((row) => row.version === migration.version));
  if (missing.length > 0) {
    const names = missing.map((migration) => `${String(migration.version).padStart(4, '0')}_${migration.name}`).join(', ');
    throw new Error(`${dbPath} lacks migration ${names}, and is opened read-only: start this version's server on it (or on a copy of it) once first`);
  }
  return { applied: [], version: migrations.at(-1)?.version ?? 0 };
}
