// `devcompat history`: who changed what, when, at which revision. It owns one oddity of the
// command line: `--actor` is also a global option (who is making changes), and here it is
// the filter.

import type { Command } from 'commander';
import type { HistoryFilter } from '../types.ts';
import { HISTORY_HEADERS, HISTORY_WIDE_HEADERS, historyRow, table } from '../format.ts';
import { hostName, isoTime, minRevisionOption, positiveInteger, revision } from './arguments.ts';
import type { CommandContext } from './context.ts';

export function registerHistoryCommands(program: Command, cli: CommandContext): void {
  program
    .command('history')
    .description('who changed what, when, at which revision (newest first)')
    .argument('[resource]', 'hosts/{host} (with its devices and claims), hosts/{host}/devices/{device} or hosts/{host}/claims/{claim_id}; all when omitted')
    .option('--from-revision <n>', 'entries at or after this revision', revision)
    .option('--to-revision <n>', 'entries at or before this revision', revision)
    .option('--since <time>', 'entries at or after this time (ISO 8601)')
    .option('--until <time>', 'entries before this time (ISO 8601)')
    .option('--actor <actor>', 'entries by this actor')
    .option('--oldest-first', 'oldest first', false)
    .option('--limit <n>', 'entries at most', positiveInteger)
    .addOption(minRevisionOption())
    .action(async (resource: string | undefined, options) => {
      // commander gives `--actor` to the program wherever it appears, so `history --actor bob`
      // sets the program's "who is making changes". history changes nothing: an --actor typed
      // on its command line is the filter. DEVCOMPAT_ACTOR names the caller, so it is not.
      const historyActor = (own: string | undefined) =>
        own ?? (program.getOptionValueSource('actor') === 'cli' ? cli.options().actor : undefined);
      const filter: HistoryFilter = {
        resource: resource ? hostName(resource) : undefined,
        startRevision: options.fromRevision,
        endRevision: options.toRevision,
        startTime: isoTime(options.since, '--since'),
        endTime: isoTime(options.until, '--until'),
        actor: historyActor(options.actor),
        order: options.oldestFirst ? 'HISTORY_ORDER_OLDEST_FIRST' : 'HISTORY_ORDER_NEWEST_FIRST',
      };
      await cli.withClient(async (c) => {
        const rows: string[][] = [];
        let count = 0;
        for await (const entry of c.history(filter, { minRevision: options.minRevision })) {
          if (options.limit !== undefined && count >= options.limit) break;
          count++;
          if (cli.json()) cli.printLine('HistoryEntry', entry);
          else rows.push(historyRow(entry, cli.wide()));
        }
        if (!cli.json()) cli.out(table(cli.wide() ? HISTORY_WIDE_HEADERS : HISTORY_HEADERS, rows));
      });
    });
}
