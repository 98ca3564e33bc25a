// `devcompat store copy <from> <to>`: copies a registry between stores with its whole history
// and chain, and checks the copy has the same revision, head, chain and revisions
// (server/store/store-copy.ts). It opens the stores itself, so the servers on the source should
// be stopped first. A SQLite source is only read (it must exist: a backup is copied as it is);
// the target stays marked as an unfinished copy, which no server starts on, until the copy has
// checked itself. Progress goes to stderr every few seconds; stdout holds only the result.

import type { Command } from 'commander';

interface Io {
  out(text: string): void;
  err(text: string): void;
}

export function registerStoreCommands(program: Command, io: Io): void {
  const store = program.command('store').description('work on a registry store directly (stop the servers first)');
  store
    .command('copy <from> <to>')
    .description(
      'copy a registry with its whole history and chain: sqlite:PATH (an existing file, only read: a backup works) or ' +
        'postgres://user@host/db, into an empty store; until the copy has checked itself the target is marked unfinished and no server starts on it',
    )
    .action(async (from: string, to: string) => {
      const { copyStore } = await import('../../server/store/store-copy.ts');
      const report = await copyStore(from, to, { progress: (line) => io.err(line) });
      io.out(
        `copied revision ${report.revision} (${report.entries} history entries, ${report.hosts} hosts, ${report.devices} devices); ` +
          `the copy verifies with head ${report.headHash}`,
      );
    });
}
