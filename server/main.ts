// `npm start`: the registry on an embedded SQLite file with sensible defaults.
// Flags override environment variables, which override the defaults.

import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_ADDRESS, DEFAULT_DB_PATH, DEFAULT_MAX_MESSAGE_BYTES, startServer } from './server.ts';
import { DEFAULT_LEASE_TTL_MS, type RetentionPolicy } from './core/registry.ts';
import { loadPolicy } from './grpc/auth.ts';

/** `30s`, `500ms`, `2m`, `7d`, or plain milliseconds. */
function duration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must be a duration such as 500ms, 30s, 10m, 24h or 7d');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  const ms = Number(match[1]) * unit;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError('must be a positive duration');
  return ms;
}

/** `--retain 7d` keeps seven days of history; `--retain 100000` keeps that many revisions. */
function retention(value: string): RetentionPolicy {
  if (/^\d+$/.test(value.trim())) return { kind: 'revisions', keep: positiveInteger(value) };
  return { kind: 'age', keepMs: duration(value) };
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

const program = new Command()
  .name('devcompat-server')
  .description('devcompat registry server: device compatibility for live migration')
  .addOption(new Option('--db <path>', 'SQLite database file (created with its folder)').env('DEVCOMPAT_DB').default(DEFAULT_DB_PATH))
  .addOption(new Option('--address <host:port>', 'address to listen on').env('DEVCOMPAT_ADDRESS').default(DEFAULT_ADDRESS))
  .addOption(
    new Option('--durability <mode>', 'full: acknowledge writes once fsynced; relaxed: faster, may lose the last writes on power loss')
      .choices(['full', 'relaxed'])
      .env('DEVCOMPAT_DURABILITY')
      .default('full'),
  )
  .addOption(
    new Option('--max-message-bytes <n>', 'largest request accepted')
      .argParser(positiveInteger)
      .env('DEVCOMPAT_MAX_MESSAGE_BYTES')
      .default(DEFAULT_MAX_MESSAGE_BYTES),
  )
  .addOption(
    new Option('--lease-ttl <duration>', 'a host whose agent neither syncs nor sends a keepalive for this long becomes UNREACHABLE')
      .argParser(duration)
      .env('DEVCOMPAT_LEASE_TTL')
      .default(DEFAULT_LEASE_TTL_MS, '30s'),
  )
  .addOption(
    new Option('--retain <policy>', 'compact history older than N days/hours (7d, 24h) or beyond the last N revisions (100000); default: keep everything')
      .argParser(retention)
      .env('DEVCOMPAT_RETAIN'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).env('DEVCOMPAT_LOG_LEVEL').default('info'),
  )
  // Security (docs/security.md): TLS, mutual TLS and the authorization policy.
  .addOption(new Option('--tls-cert <file>', 'PEM certificate (chain) the server presents; re-read when it changes').env('DEVCOMPAT_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('DEVCOMPAT_TLS_KEY'))
  .addOption(new Option('--client-ca <file>', 'PEM CA bundle for client certificates: turns on mutual TLS and roles').env('DEVCOMPAT_CLIENT_CA'))
  .addOption(new Option('--authz <file>', 'authorization policy (JSON or YAML) mapping identities to roles').env('DEVCOMPAT_AUTHZ'))
  .addOption(new Option('--insecure', 'allow listening on a non-loopback address without TLS').env('DEVCOMPAT_INSECURE').default(false))
  .parse();

const options = program.opts<{
  db: string;
  address: string;
  durability: 'full' | 'relaxed';
  maxMessageBytes: number;
  leaseTtl: number;
  retain?: RetentionPolicy;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  authz?: string;
  insecure: boolean;
}>();
const log = pino({ level: options.logLevel, base: { service: 'devcompat' } });

try {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  if (options.clientCa && !options.tlsCert) throw new Error('--client-ca needs --tls-cert and --tls-key');
  const server = await startServer({
    tls: options.tlsCert && options.tlsKey ? { certFile: options.tlsCert, keyFile: options.tlsKey, clientCaFile: options.clientCa } : undefined,
    authz: options.authz ? loadPolicy(options.authz) : undefined,
    insecure: options.insecure,
    dbPath: options.db,
    address: options.address,
    durability: options.durability,
    maxMessageBytes: options.maxMessageBytes,
    leaseTtlMs: options.leaseTtl,
    retention: options.retain,
    logger: log,
    onFatal: () => process.exit(1),
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  log.fatal({ err: error }, `devcompat cannot start: ${(error as Error).message}`);
  process.exit(1);
}
