// `npm start`: the registry on an embedded SQLite file with sensible defaults.
// Flags override environment variables, which override the defaults.

import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_ADDRESS, DEFAULT_DB_PATH, DEFAULT_MAX_MESSAGE_BYTES, startServer } from './server.ts';

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
    new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).env('DEVCOMPAT_LOG_LEVEL').default('info'),
  )
  .parse();

const options = program.opts<{ db: string; address: string; durability: 'full' | 'relaxed'; maxMessageBytes: number; logLevel: string }>();
const log = pino({ level: options.logLevel, base: { service: 'devcompat' } });

try {
  const server = await startServer({
    dbPath: options.db,
    address: options.address,
    durability: options.durability,
    maxMessageBytes: options.maxMessageBytes,
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
