// `devcompat serve` (and `npm start`): the registry on an embedded SQLite file with sensible
// defaults. Its flags are its own (the CLI parses them after `serve`, positionally): `--address`
// is where it listens (DEVCOMPAT_LISTEN_ADDRESS), unlike the CLI's global `--address`, where
// clients connect. Flags override environment variables, which override a --config file, which
// overrides the defaults.
//
// The CLI imports this module only when `serve` is asked for, so that other commands do not pay
// for the server's modules. server/main.ts (`node dist/server/main.js`; `node --import tsx
// server/main.ts --db ...`, as tests and benches run it) is the serve command alone.
//
// Start-up order (a restart's time, docs/benchmarks.md): the storage worker's thread is started
// before this module loads (by server/main.ts, or the CLI's serve), and this module imports only
// what parsing and checking the flags needs (no grpc-js, no protobuf, no core); with SQLite and no
// TLS files to read, every option that could refuse the start is checked first and the worker
// opens the database at once (migrations, the tables read ahead, the chain and anchor checks)
// while this thread loads the server's modules.

import { Command, InvalidArgumentError, Option } from 'commander';
import { applyBooleanEnvironment } from '../client/boolean-env.ts';
import { applyConfigFile } from '../client/config-file.ts';
import { pino } from 'pino';
import { DEFAULT_ADDRESS, DEFAULT_DB_PATH, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SLOW_REQUEST_MS, DEFAULT_STARTUP_CHAIN_CHECK } from './server-defaults.ts';
import type { RunningServer } from './server.ts';
import type { SqliteStoreOptions } from './store/sqlite-store.ts';
import { discardEarlyWorker, sqliteStore, startStorageWorkerEarly } from './store/worker-store.ts';
import { applyHeapSettings, semiSpaceAdvice, SEMI_SPACE_FLAG } from './heap-settings.ts';
import { DEFAULT_LEASE_TTL_MS } from './core/lease-ttl.ts';
import type { RetentionPolicy } from './core/registry.ts';
import * as limits from './grpc/limit-defaults.ts';
import { startupFailureCause } from './startup-failure.ts';
import { DEFAULT_MAX_LAG_MS, MIN_MAX_LAG_MS } from './grpc/serving-health.ts';
import { tracingFromEnv } from './tracing.ts';
import { chooseStore, redact, storeFactoryOf } from './store/store-choice.ts';
import { checkListenSecurity } from './listen-security.ts';

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

/** A duration, or `0` to turn the limit off. */
function durationOrOff(value: string): number {
  return value.trim() === '0' ? 0 : duration(value);
}

/** `--max-lag`: 0 (off) or at least MIN_MAX_LAG_MS, which a healthy replica never reaches. */
function maxLag(value: string): number {
  const ms = durationOrOff(value);
  if (ms !== 0 && ms < MIN_MAX_LAG_MS) {
    throw new InvalidArgumentError(`must be 0 (off) or at least ${MIN_MAX_LAG_MS / 1000}s: the database's head is probed about once a second, so a lower bound would turn a healthy replica NOT_SERVING`);
  }
  return ms;
}

/** `512MiB`, `2GiB`, `800MB`, or plain bytes; `0` turns the budget off. */
function bytes(value: string): number {
  const match = /^(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must be a size such as 512MiB, 2GiB or 800MB');
  const units: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  return Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!;
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

function reanchorReason(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('give the reason the anchor is replaced (it is recorded)');
  return value;
}

export const SERVE_DESCRIPTION = 'run the registry server (its flags are its own: devcompat serve --help)';

/** The `serve` command, with every server flag. */
export const serveCommand = () => new Command('serve')
  .description(SERVE_DESCRIPTION)
  .addOption(new Option('--config <file>', 'settings file (YAML or JSON), keys named as the flags (lease_ttl: 1h); flags and environment win').env('DEVCOMPAT_SERVE_CONFIG'))
  .addOption(new Option('--db <path>', 'SQLite database file (created with its folder)').env('DEVCOMPAT_DB').default(DEFAULT_DB_PATH))
  .addOption(
    new Option('--store <store>', 'where the registry is stored: sqlite:PATH, or postgres://user@host/db for replicas over PostgreSQL (not with --db)').env(
      'DEVCOMPAT_STORE',
    ),
  )
  .addOption(new Option('--address <host:port>', 'address to listen on').env('DEVCOMPAT_LISTEN_ADDRESS').default(DEFAULT_ADDRESS))
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
    new Option('--max-lag <duration>', 'replicas over PostgreSQL: NOT_SERVING while this replica has not held the database\'s head for this long (0: lag does not count)')
      .argParser(maxLag)
      .env('DEVCOMPAT_MAX_LAG')
      .default(DEFAULT_MAX_LAG_MS, '10s'),
  )
  .addOption(
    new Option('--retain <policy>', 'compact history older than N days/hours (7d, 24h) or beyond the last N revisions (100000); default: keep everything')
      .argParser(retention)
      .env('DEVCOMPAT_RETAIN'),
  )
  // Limits (server/grpc/limits.ts; docs/api.md, Limits).
  .addOption(
    new Option('--max-concurrent-streams <n>', 'calls one connection may have open at once')
      .argParser(positiveInteger)
      .env('DEVCOMPAT_MAX_CONCURRENT_STREAMS')
      .default(limits.DEFAULT_MAX_CONCURRENT_STREAMS),
  )
  .addOption(
    new Option(
      '--max-request-streams-per-connection <n>',
      'request streams (CheckCompatibilityStream, KeepAlive, reflection) one connection may have open at once, each holding at most 512 KB of unread requests; more are refused with RESOURCE_EXHAUSTED',
    )
      .argParser(positiveInteger)
      .env('DEVCOMPAT_MAX_REQUEST_STREAMS_PER_CONNECTION')
      .default(limits.DEFAULT_MAX_REQUEST_STREAMS_PER_CONNECTION),
  )
  .addOption(
    new Option(
      '--max-watches-per-connection <n>',
      'watches (Watch, WatchTargets) one connection may have open at once, each holding at most a catch-up page and 8 MiB of unread messages; more are refused with RESOURCE_EXHAUSTED',
    )
      .argParser(positiveInteger)
      .env('DEVCOMPAT_MAX_WATCHES_PER_CONNECTION')
      .default(limits.DEFAULT_MAX_WATCHES_PER_CONNECTION),
  )
  .addOption(
    new Option('--receive-timeout <duration>', 'a request must arrive in full within this time of its call starting (a request stream: each message, of its first byte), else DEADLINE_EXCEEDED (0: off)')
      .argParser(durationOrOff)
      .env('DEVCOMPAT_RECEIVE_TIMEOUT')
      .default(limits.DEFAULT_RECEIVE_TIMEOUT_MS, '10s'),
  )
  .addOption(
    new Option('--idle-timeout <duration>', 'close a connection with no call open for this long')
      .argParser(duration)
      .env('DEVCOMPAT_IDLE_TIMEOUT')
      .default(limits.DEFAULT_IDLE_TIMEOUT_MS, '5m'),
  )
  .addOption(
    new Option('--keepalive-time <duration>', 'ping a connection silent for this long')
      .argParser(duration)
      .env('DEVCOMPAT_KEEPALIVE_TIME')
      .default(limits.DEFAULT_KEEPALIVE_TIME_MS, '2m'),
  )
  .addOption(
    new Option('--keepalive-timeout <duration>', 'close a connection whose ping is not answered within this time')
      .argParser(duration)
      .env('DEVCOMPAT_KEEPALIVE_TIMEOUT')
      .default(limits.DEFAULT_KEEPALIVE_TIMEOUT_MS, '20s'),
  )
  .addOption(
    new Option('--max-connection-age <duration>', 'ask clients to reconnect after this long, to rebalance (0: never)')
      .argParser(durationOrOff)
      .env('DEVCOMPAT_MAX_CONNECTION_AGE')
      .default(limits.DEFAULT_MAX_CONNECTION_AGE_MS, '0'),
  )
  .addOption(
    new Option('--max-connection-age-grace <duration>', 'then let its calls finish for this long before closing it')
      .argParser(duration)
      .env('DEVCOMPAT_MAX_CONNECTION_AGE_GRACE')
      .default(limits.DEFAULT_MAX_CONNECTION_AGE_GRACE_MS, '30s'),
  )
  .addOption(
    new Option(
      '--max-finite-streams <n>',
      "FindTargets/FindPlacements streams in progress at once, server-wide; at the limit another client's search evicts the longest-stalled unread one of the client holding the most, else it is refused with RESOURCE_EXHAUSTED",
    )
      .argParser(positiveInteger)
      .env('DEVCOMPAT_MAX_FINITE_STREAMS')
      .default(limits.DEFAULT_MAX_FINITE_STREAMS),
  )
  .addOption(
    new Option(
      '--max-finite-streams-per-client <n>',
      'FindTargets/FindPlacements streams one client (its TLS identity, else its connection) may have in progress at once; more are refused with RESOURCE_EXHAUSTED',
    )
      .argParser(positiveInteger)
      .env('DEVCOMPAT_MAX_FINITE_STREAMS_PER_CLIENT')
      .default(limits.DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT),
  )
  .addOption(
    new Option(
      '--finite-admission-wait <duration>',
      'at the --max-finite-streams limit, how long a search waits for a place (or for an unread search to evict) before RESOURCE_EXHAUSTED (0: at once)',
    )
      .argParser(durationOrOff)
      .env('DEVCOMPAT_FINITE_ADMISSION_WAIT')
      .default(limits.DEFAULT_ADMISSION_WAIT_MS, '1s'),
  )
  .addOption(
    new Option('--send-timeout <duration>', 'cut off a search, Watch or WatchTargets whose client takes nothing for this long (0: never)')
      .argParser(durationOrOff)
      .env('DEVCOMPAT_SEND_TIMEOUT')
      .default(limits.DEFAULT_SEND_TIMEOUT_MS, '30s'),
  )
  .addOption(
    new Option('--evict-unread-after <duration>', 'at the FindTargets limit, when no client holds more searches than the newcomer, evict one whose client has read nothing for this long')
      .argParser(duration)
      .env('DEVCOMPAT_EVICT_UNREAD_AFTER')
      .default(limits.DEFAULT_EVICT_UNREAD_AFTER_MS, '5s'),
  )
  .addOption(
    new Option('--memory-budget <size>', 'resident memory past which new calls are refused with RESOURCE_EXHAUSTED (0: off)')
      .argParser(bytes)
      .env('DEVCOMPAT_MEMORY_BUDGET')
      .default(limits.defaultMemoryBudgetBytes(), 'half the memory available, at most 2GiB'),
  )
  .addOption(
    new Option('--accept-restore', 'start on a database behind or off its head anchor (a restore from backup): recorded, numbering resumes above the anchor')
      .env('DEVCOMPAT_ACCEPT_RESTORE')
      .default(false),
  )
  // No environment variable on purpose: a re-anchoring is a one-off act, never a standing setting.
  .addOption(
    new Option('--reanchor <reason>', 'start on a database whose head anchor is missing, unreadable or foreign, re-anchoring it (recorded with your user and this reason)')
      .argParser(reanchorReason),
  )
  .addOption(
    new Option('--startup-check <n>', 'newest history entries whose chain is verified at start-up (0: none)')
      .argParser(nonNegativeInteger)
      .env('DEVCOMPAT_STARTUP_CHECK')
      .default(DEFAULT_STARTUP_CHAIN_CHECK),
  )
  // Observability (docs/operations.md): metrics, slow requests; tracing is configured by OTEL_* variables.
  .addOption(
    new Option('--metrics-address <host:port>', 'serve Prometheus metrics at http://<host:port>/metrics (default: off)').env('DEVCOMPAT_METRICS_ADDRESS'),
  )
  .addOption(
    new Option('--slow-request <duration>', 'log unary calls slower than this at warn (0: never)')
      .argParser(durationOrOff)
      .env('DEVCOMPAT_SLOW_REQUEST')
      .default(DEFAULT_SLOW_REQUEST_MS, '1s'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level (debug: one line per call)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).env('DEVCOMPAT_LOG_LEVEL').default('info'),
  )
  // Security (docs/security.md): TLS, mutual TLS and the authorization policy.
  .addOption(new Option('--tls-cert <file>', 'PEM certificate (chain) the server presents; re-read when it changes').env('DEVCOMPAT_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('DEVCOMPAT_TLS_KEY'))
  .addOption(new Option('--client-ca <file>', 'PEM CA bundle for client certificates: turns on mutual TLS and roles').env('DEVCOMPAT_CLIENT_CA'))
  .addOption(new Option('--authz <file>', 'authorization policy (JSON or YAML) mapping identities to roles').env('DEVCOMPAT_AUTHZ'))
  .addOption(new Option('--insecure', 'allow listening on a non-loopback address without TLS').env('DEVCOMPAT_INSECURE').default(false))
  .action(async (_options: unknown, command: Command) => {
    applyBooleanEnvironment(command);
    applyConfigFile(command);
    await serve({ ...command.opts<ServeOptions>(), dbGiven: command.getOptionValueSource('db') !== 'default' });
  });

export interface ServeOptions {
  db: string;
  /** Whether --db (or DEVCOMPAT_DB, or the config file) named the database, rather than the default. */
  dbGiven?: boolean;
  store?: string;
  address: string;
  durability: 'full' | 'relaxed';
  maxMessageBytes: number;
  leaseTtl: number;
  maxLag: number;
  retain?: RetentionPolicy;
  logLevel: string;
  metricsAddress?: string;
  slowRequest: number;
  maxConcurrentStreams: number;
  maxRequestStreamsPerConnection: number;
  maxWatchesPerConnection: number;
  receiveTimeout: number;
  idleTimeout: number;
  keepaliveTime: number;
  keepaliveTimeout: number;
  maxConnectionAge: number;
  maxConnectionAgeGrace: number;
  memoryBudget: number;
  maxFiniteStreams: number;
  maxFiniteStreamsPerClient: number;
  finiteAdmissionWait: number;
  sendTimeout: number;
  evictUnreadAfter: number;
  acceptRestore: boolean;
  reanchor?: string;
  startupCheck: number;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  authz?: string;
  insecure: boolean;
}

/** Starts the server and stops it on SIGINT/SIGTERM; exits 1 when it cannot start. */
export async function serve(options: ServeOptions): Promise<void> {
  const log = pino({ level: options.logLevel, base: { service: 'devcompat' } });

  try {
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
      throw new Error('--tls-cert and --tls-key go together');
    }
    if (options.clientCa && !options.tlsCert) throw new Error('--client-ca needs --tls-cert and --tls-key');
    const store = chooseStore(options.store, options.dbGiven ? options.db : undefined, DEFAULT_DB_PATH);
    if (store.kind === 'postgres') log.info({ store: redact(store.url) }, 'storing the registry in PostgreSQL');
    // The signal handlers come first: a SIGTERM that arrives while the server is still starting
    // (a supervisor that gives up, a test that stops it as soon as it says it serves) stops it
    // cleanly once it has started, rather than killing it half-way with the default action.
    let server: RunningServer | undefined;
    let stopping: string | undefined;
    let tracing: Awaited<ReturnType<typeof tracingFromEnv>>;
    const shutdown = () => {
      log.info({ signal: stopping }, 'shutting down');
      server!
        .close()
        .then(() => tracing?.shutdown())
        .then(
          () => process.exit(0),
          (error) => {
            log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
    };
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = signal;
      if (server) shutdown();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // Set already (the same value) where server/main.ts or the CLI started the storage worker.
    const heapGrowingPercent = applyHeapSettings();
    if (heapGrowingPercent !== undefined) log.debug({ heap_growing_percent: heapGrowingPercent }, 'heap settings');
    const semiSpace = semiSpaceAdvice();
    if (semiSpace) log.warn({ flag: SEMI_SPACE_FLAG }, semiSpace);
    // The storage worker (started before this module loaded, by server/main.ts or the CLI, or
    // started here) is told now what to open, and opens it while this thread loads the server's
    // modules (server.ts, imported here for that reason). Without TLS files to read, the options
    // that could refuse the start are all checked here (startServer checks them again, and logs
    // the warnings), so the worker opens the database at once, with the options startServer
    // gives it; with TLS, it opens it once startServer has loaded the certificates.
    // One set of options for both, so that the worker started early is the one startServer adopts.
    const sqliteOptions: SqliteStoreOptions | undefined =
      store.kind === 'sqlite'
        ? {
            path: store.path,
            durability: options.durability,
            acceptRestore: options.acceptRestore,
            reanchor: options.reanchor,
            startupChainCheck: options.startupCheck,
          }
        : undefined;
    if (sqliteOptions) {
      const tls = options.tlsCert !== undefined;
      checkListenSecurity({ tls, clientCa: Boolean(options.clientCa), authz: Boolean(options.authz), insecure: options.insecure }, options.address);
      startStorageWorkerEarly(tls ? undefined : { ...sqliteOptions, loadAtStart: true });
    } else discardEarlyWorker(); // PostgreSQL: no storage worker

    // grpc-js and the protos come with it: loaded only where a policy is given (mutual TLS).
    const authz = options.authz ? (await import('./grpc/auth.ts')).loadPolicy(options.authz) : undefined;
    const { startServer } = await import('./server.ts');
    tracing = await tracingFromEnv();
    if (tracing) log.info({ exporters: tracing.exporters }, 'tracing on (OTEL_* environment)');
    server = await startServer({
      store: store.kind === 'postgres' ? storeFactoryOf(store, options.startupCheck) : sqliteStore(sqliteOptions!),
      tls: options.tlsCert && options.tlsKey ? { certFile: options.tlsCert, keyFile: options.tlsKey, clientCaFile: options.clientCa } : undefined,
      authz,
      insecure: options.insecure,
      dbPath: store.kind === 'sqlite' ? store.path : redact(store.url),
      address: options.address,
      durability: options.durability,
      maxMessageBytes: options.maxMessageBytes,
      leaseTtlMs: options.leaseTtl,
      maxLagMs: options.maxLag,
      retention: options.retain,
      logger: log,
      limits: {
        maxConcurrentStreams: options.maxConcurrentStreams,
        maxRequestStreamsPerConnection: options.maxRequestStreamsPerConnection,
        maxWatchesPerConnection: options.maxWatchesPerConnection,
        receiveTimeoutMs: options.receiveTimeout,
        idleTimeoutMs: options.idleTimeout,
        keepaliveTimeMs: options.keepaliveTime,
        keepaliveTimeoutMs: options.keepaliveTimeout,
        maxConnectionAgeMs: options.maxConnectionAge,
        maxConnectionAgeGraceMs: options.maxConnectionAgeGrace,
        memoryBudgetBytes: options.memoryBudget,
        maxFiniteStreams: options.maxFiniteStreams,
        maxFiniteStreamsPerClient: options.maxFiniteStreamsPerClient,
        admissionWaitMs: options.finiteAdmissionWait,
        sendTimeoutMs: options.sendTimeout,
        evictUnreadAfterMs: options.evictUnreadAfter,
      },
      acceptRestore: options.acceptRestore,
      reanchor: options.reanchor,
      startupChainCheck: options.startupCheck,
      metricsAddress: options.metricsAddress,
      slowRequestMs: options.slowRequest,
      tracer: tracing?.tracer,
      onFatal: () => process.exit(1),
    });
    if (stopping) shutdown();
  } catch (error) {
    log.fatal({ err: error }, `devcompat cannot start: ${startupFailureCause(error)}`);
    process.exit(1);
  }
}
