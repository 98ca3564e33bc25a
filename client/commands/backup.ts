// `devcompat backup <file>` and `devcompat restore <backup> --db <path>`: a consistent copy of
// a running server's registry (AdminService.Backup, admin role), and putting one back in place
// of a stopped server's database as a recorded act (server/store/restore.ts). See
// docs/operations.md, "Backup and restore".

import path from 'node:path';
import type { Command } from 'commander';
import { UsageError, type CommandContext } from './context.ts';

export function registerBackupCommands(program: Command, cli: CommandContext): void {
  program
    .command('backup')
    .description("write a consistent copy of the running server's registry to <file> on the server's host, and print the revision and history head it holds (admin)")
    .argument('<file>', "the copy to write (a new file; relative paths are resolved here, so run this on the server's host)")
    .action(async (file: string) => {
      await cli.withClient(async (c) => {
        const result = await c.backup(path.resolve(file), { deadlineMs: Math.max(cli.options().timeout, 600_000) });
        if (cli.json()) cli.print('BackupResponse', result);
        else {
          cli.out(`backup ${result.path}: revision ${result.revision}, head ${result.head_hash}, ${result.size_bytes} bytes`);
          cli.out(`after a restore, prove it with: devcompat audit verify --expect-head ${result.head_hash}`);
        }
      });
    });

  program
    .command('restore')
    .description('put a backup in place of a stopped server\'s database, recorded as a restore (numbering resumes above every revision the database had)')
    .argument('<backup>', 'the backup file (from devcompat backup)')
    .requiredOption('--db <path>', "the server's database file (the server must be stopped)")
    .option(
      '--resume-above <revision>',
      'when the head anchor beside --db is gone (a restore onto a new machine or path): the highest revision the lost registry may have reached; the restore is recorded above it',
    )
    .action(async (backup: string, options: { db: string; resumeAbove?: string }) => {
      const { restoreDatabase, RestoreError } = await import('../../server/store/restore.ts');
      const { DatabaseInUseError } = await import('../../server/store/single-writer-lock.ts');
      let report;
      try {
        const resumeAbove = options.resumeAbove === undefined ? undefined : /^\d+$/.test(options.resumeAbove) ? Number(options.resumeAbove) : Number.NaN;
        if (Number.isNaN(resumeAbove)) throw new UsageError(`--resume-above: "${options.resumeAbove}" is not a revision (a whole number)`);
        report = restoreDatabase({ backup, dbPath: options.db, resumeAbove });
      } catch (error) {
        if (error instanceof RestoreError || error instanceof DatabaseInUseError) throw new UsageError(error.message);
        throw error;
      }
      if (cli.json()) {
        const recorded = report.recorded ?? report.reanchored;
        cli.out(JSON.stringify({ dbPath: report.dbPath, revision: String(report.revision), headHash: report.headHash, replacedTo: report.replacedTo ?? null, restoreRevision: recorded ? String(recorded.revision) : null }, null, 2));
        return;
      }
      cli.out(`restored ${path.resolve(backup)} to ${report.dbPath}: revision ${report.revision}, head ${report.headHash}`);
      if (report.replacedTo) cli.out(`the database it replaced was moved to ${report.replacedTo}`);
      if (report.recorded) cli.out(`recorded as restore revision ${report.recorded.revision} (above every revision its clients may have seen; the next write is ${report.recorded.revision + 1})`);
      if (report.reanchored) cli.out(`re-anchored here, recorded as revision ${report.reanchored.revision} (above --resume-above; the next write is ${report.reanchored.revision + 1})`);
      cli.out(`start the server, then check: devcompat audit verify --expect-head ${report.headHash}`);
    });
}
