// `devcompat watch`: the change feed, one line per change, for as long as the user wants it.
// The client resumes the feed by itself after an interruption; this command says so once per
// outage on stderr, stops on Ctrl-C (or SIGTERM) or once --until has been printed.

import type { Command } from 'commander';
import type { WatchFilter } from '../types.ts';
import { WATCH_HEADER, watchLine } from '../format.ts';
import { hostName, minRevisionOption, positiveInteger, revision } from './arguments.ts';
import type { CommandContext } from './context.ts';

export function registerWatchCommands(program: Command, cli: CommandContext): void {
  program
    .command('watch')
    .description('print changes as they happen, one line per change, resuming by itself after interruptions (stop with Ctrl-C)')
    .option('--from <n>', 'start at this revision (inclusive) instead of now', revision)
    .option('--until <n>', 'exit once everything up to this revision has been printed', revision)
    .option('--host <host>', 'only this host and its devices')
    .option('--vendor <vendor>', 'only devices of this vendor (before or after the change)')
    .option('--device-api <api>', 'only devices with this device_api')
    .option('--type <type>', 'only devices of this type')
    .option('--progress-interval <ms>', 'after this long without changes, report the current revision (at least 100)', positiveInteger)
    .addOption(minRevisionOption())
    .action(async (options) => {
      const filter: WatchFilter = {
        host: options.host ? hostName(options.host) : undefined,
        vendor: options.vendor,
        device_api: options.deviceApi,
        type: options.type,
      };
      const fromNow = options.from === undefined || BigInt(options.from) === 0n;
      const until = options.until === undefined ? undefined : BigInt(options.until);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await cli.withClient(async (c) => {
          const messages = c.watch({
            startRevision: options.from,
            filter,
            progressIntervalMs: options.progressInterval,
            minRevision: options.minRevision,
            signal: stop.signal,
            // One line per outage, not one per reconnection attempt.
            onResume: (error, next, attempt) => {
              if (attempt !== 1) return;
              cli.err(`devcompat: watch interrupted (${cli.describeError(error)}); resuming at revision ${next ?? 'now'}`);
            },
          });
          for await (const message of messages) {
            if (cli.json()) cli.printLine('WatchResponse', message);
            else if (message.created) cli.out(WATCH_HEADER);
            else if (message.progress) {
              if (options.progressInterval !== undefined) cli.out(`-- at revision ${message.revision}, no change since --`);
            } else for (const event of message.events) cli.out(watchLine(message.revision, event));
            // Everything up to this revision has been printed (for `created`, only in a watch from now).
            const upTo = message.created && !fromNow ? undefined : BigInt(message.revision);
            if (until !== undefined && upTo !== undefined && upTo >= until) break;
          }
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
