// A throwaway PostgreSQL cluster for the PostgreSQL tests and the benchmark's postgres phase
// (bench/postgres-phase.ts, which turns fsync back on): `initdb` in a temp dir, a free
// loopback port, `pg_ctl` to start, stop and restart it, and the dir removed at the end.
// PostgreSQL refuses to run as root, so when the tests run as root (CI, this machine) every
// PostgreSQL binary runs through `runuser -u postgres` (the Debian package's user) and the
// dir is handed to that user. Trust authentication on loopback only: nothing else can reach it.
//
// `fsync=off` keeps these clusters fast on a loaded 2-core machine; that is safe for what the
// tests do to PostgreSQL (a clean `pg_ctl stop -m fast`, or a promote), never a power cut.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

const SUPERUSER = 'devcompat';

/** The directory holding initdb, pg_ctl, pg_basebackup (Debian's versioned dir, newest first). */
export function postgresBinDir(): string {
  const fromEnv = process.env.DEVCOMPAT_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return path.join(root, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return path.dirname(which.stdout.trim());
  throw new Error('PostgreSQL is not installed: no initdb in /usr/lib/postgresql/*/bin or on PATH (set DEVCOMPAT_PG_BIN)');
}

const asRoot = process.getuid?.() === 0;

/**
 * Why a throwaway cluster cannot be made here (no initdb or pg_ctl in `binDir`, or, as root,
 * no `postgres` user to run them as), or undefined when it can.
 */
export function postgresMissing(binDir?: string): string | undefined {
  let dir: string;
  try {
    dir = binDir ?? postgresBinDir();
  } catch (error) {
    return (error as Error).message;
  }
  const absent = ['initdb', 'pg_ctl'].filter((binary) => !existsSync(path.join(dir, binary)));
  if (absent.length > 0) return `no ${absent.join(' or ')} in ${dir}`;
  if (asRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'running as root and there is no postgres user to run PostgreSQL as (PostgreSQL refuses root)';
  }
  return undefined;
}

/** Runs a PostgreSQL binary of `binDir`, as the `postgres` user when we are root. */
function runPg(binDir: string, binary: string, args: readonly string[], options: { allowFailure?: boolean } = {}): string {
  const file = path.join(binDir, binary);
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, [...args]];
  const result = spawnSync(command, argv, { encoding: 'utf8', cwd: '/' });
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${binary} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

function ownByPostgres(dir: string): void {
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ClusterOptions {
  /** Extra postgresql.conf lines (they override the defaults, `fsync = off` included). */
  readonly settings?: Readonly<Record<string, string>>;
  /** The directory of initdb and pg_ctl; postgresBinDir() by default. */
  readonly binDir?: string;
}

export class PostgresCluster {
  private running = false;
  private databases = 0;

  private constructor(
    /** The temp dir holding the data directory, the socket and the log. */
    readonly dir: string,
    readonly dataDir: string,
    readonly port: number,
    readonly binDir: string,
  ) {}

  private run(binary: string, args: readonly string[], options: { allowFailure?: boolean } = {}): string {
    return runPg(this.binDir, binary, args, options);
  }

  /** initdb in a fresh temp dir, then start on a free loopback port. */
  static async create(options: ClusterOptions = {}): Promise<PostgresCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-pg-'));
    chmodSync(dir, 0o755);
    ownByPostgres(dir);
    const dataDir = path.join(dir, 'data');
    const binDir = options.binDir ?? postgresBinDir();
    try {
      runPg(binDir, 'initdb', ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
      const cluster = new PostgresCluster(dir, dataDir, await freePort(), binDir);
      cluster.configure({ fsync: 'off', full_page_writes: 'off', ...options.settings });
      cluster.start();
      return cluster;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A streaming standby of `primary`, made with pg_basebackup (`-R` writes the connection to
   * the primary), started on its own port as `application_name`.
   */
  static async standbyOf(primary: PostgresCluster, applicationName: string): Promise<PostgresCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-pg-standby-'));
    chmodSync(dir, 0o755);
    ownByPostgres(dir);
    const dataDir = path.join(dir, 'data');
    try {
      runPg(primary.binDir, 'pg_basebackup', [
        '-D', dataDir, '-h', '127.0.0.1', '-p', String(primary.port), '-U', SUPERUSER, '-X', 'stream', '-R', '--no-sync', '-c', 'fast',
        '-d', `application_name=${applicationName}`,
      ]);
      const standby = new PostgresCluster(dir, dataDir, await freePort(), primary.binDir);
      standby.configure({});
      standby.start();
      return standby;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Appends settings to postgresql.conf (taking effect at the next start or reload). */
  configure(settings: Readonly<Record<string, string>>): void {
    const lines = [
      `port = ${this.port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${this.dir}'`,
      ...Object.entries(settings).map(([key, value]) => `${key} = '${value}'`),
    ];
    const file = path.join(this.dataDir, 'postgresql.conf');
    appendFileSync(file, `\n${lines.join('\n')}\n`);
    if (asRoot) execFileSync('chown', ['postgres:postgres', file]);
  }

  /** A connection string for `database` (the superuser's; trust on loopback). */
  url(database = 'postgres'): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  start(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-l', path.join(this.dir, 'postgres.log'), '-w', '-t', '120', 'start']);
    this.running = true;
  }

  /** A fast shutdown (clients are disconnected, nothing committed is lost); `immediate` is a crash. */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    if (!this.running) return;
    this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '120', 'stop']);
    this.running = false;
  }

  reload(): void {
    this.run('pg_ctl', ['-D', this.dataDir, 'reload']);
  }

  promote(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-w', '-t', '120', 'promote']);
  }

  /** A fresh, empty database; returns its connection string. */
  async createDatabase(prefix = 'devcompat'): Promise<string> {
    const name = `${prefix}_${process.pid}_${++this.databases}`;
    await this.sql(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** Runs statements on `database` through one short connection; returns the last result's rows. */
  async sql(statements: string, database = 'postgres'): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    // A server stopping meanwhile (57P01) fails the query; heard here, it cannot also end the test process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const result = await client.query(statements);
      const last = Array.isArray(result) ? result.at(-1) : result;
      return (last?.rows ?? []) as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  /** Stops the server and removes its dir. */
  destroy(): void {
    try {
      this.stop();
    } catch {
      // An already-dead server: the dir goes anyway.
      this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', 'stop'], { allowFailure: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The postmaster's pid (first line of postmaster.pid); undefined when it is not running. */
  postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  log(): string {
    const file = path.join(this.dir, 'postgres.log');
    return existsSync(file) ? spawnSync('tail', ['-n', '50', file], { encoding: 'utf8' }).stdout : '';
  }
}

/** Writes `text` to a file in the cluster dir (for pg_hba tweaks in standby tests). */
export function writeClusterFile(cluster: PostgresCluster, name: string, text: string): void {
  writeFileSync(path.join(cluster.dataDir, name), text);
  ownByPostgres(cluster.dataDir);
}
