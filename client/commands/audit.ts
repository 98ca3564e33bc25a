// `devcompat audit verify` and `audit compact`: checking history's hash chain (exit 1 when it
// is broken) and removing old history behind a checkpoint of the chain.

import type { Command } from 'commander';
import { compactLine, verifyLine } from '../format.ts';
import { minRevisionOption, revision } from './arguments.ts';
import { EXIT_BROKEN, EXIT_OK, type CommandContext } from './context.ts';

export function registerAuditCommands(program: Command, cli: CommandContext): void {
  const audit = program.command('audit').description("check and compact history's hash chain");
  audit
    .command('verify')
    .description('walk the history chain and report the first broken entry (exit 0 intact, 1 broken)')
    .option('--expect-head <hash>', 'also prove that history up to this head hash (kept from a write or a watch) is intact')
    .addOption(minRevisionOption())
    .action(async (options: { expectHead?: string; minRevision?: string }) => {
      await cli.withClient(async (c) => {
        const result = await c.verifyHistory({ expectedHead: options.expectHead, minRevision: options.minRevision, deadlineMs: cli.options().timeout });
        if (cli.json()) cli.print('VerifyHistoryResponse', result);
        else cli.out(verifyLine(result));
        cli.setExitCode(result.intact ? EXIT_OK : EXIT_BROKEN);
      });
    });
  audit
    .command('compact')
    .description('remove history up to and including a revision, keeping a checkpoint of the chain (admin)')
    .requiredOption('--revision <n>', 'the last revision to remove', revision)
    .action(async (options: { revision: string }) => {
      await cli.withClient(async (c) => {
        const result = await c.compactHistory(options.revision);
        if (cli.json()) cli.print('CompactHistoryResponse', result);
        else cli.out(compactLine(result));
      });
    });
}
