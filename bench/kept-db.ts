// A fleet database kept by `npm run bench -- --keep-db F` (with its head anchor), for the benches
// that start a server or a store from it alone: restart-alone.ts, find-after-restart.ts and
// startup-steps.ts. Each run works on a fresh copy in a temp dir, so the kept file is never
// changed, and starts the server as the bench's restart phase does.

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareServerBuild, serverEntryArgs } from './processes.ts';

export interface KeptCopy {
  /** The copy's database file (its head anchor beside it). */
  readonly file: string;
  /** Deletes the copy. */
  remove(): void;
}

/** A fresh copy of the kept database `db` and its head anchor, in a temp dir named after `purpose`. */
export function copyKeptDatabase(db: string, purpose: string): KeptCopy {
  const dir = mkdtempSync(path.join(os.tmpdir(), `devcompat-${purpose}-`));
  const file = path.join(dir, 'fleet.db');
  copyFileSync(db, file);
  copyFileSync(`${db}.head`, `${file}.head`);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * node's arguments up to the server's entry: another build's main.js when given, else this
 * checkout's dist/ (built if needed), with node's flags as serverEntryArgs gives them
 * (`nodeFlags` last, so that they win).
 */
export function keptServerEntry(server: string | undefined, nodeFlags: readonly string[] = []): string[] {
  if (server) return serverEntryArgs(nodeFlags, path.resolve(server));
  prepareServerBuild('dist');
  return serverEntryArgs(nodeFlags);
}

/** The server's flags on a copy, as the bench's restart phase starts it (no lease lapses meanwhile). */
export function keptServerFlags(file: string): string[] {
  return ['--db', file, '--address', '127.0.0.1:0', '--lease-ttl', '1d', '--log-level', 'info'];
}

/** The 1-, 5- and 15-minute load averages, as /proc prints them. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
}
