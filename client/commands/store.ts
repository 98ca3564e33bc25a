// `devcompat store copy <from> <to>`: copies a registry between stores with its whole history
// and chain, and checks the copy has the same revision and head (server/store/store-copy.ts).
// It opens the stores itself, so the servers on the source should be stopped first.

import type { Command } from 'commander';

interface Io {
  out(text: string): void;
  err(text: string): void;
}

export function registerStoreCommands(program: Command, io: Io): void {
  const store = program.command('store').description('work on a registry store directly (stop the servers first)');
  store
    .command('copy <from> <to>')
    .description('copy a registry with its whole history and chain: sqlite:PATH or postgres://user@host/db, into an empty store')
    .action(async (from: string, to: string) => {
      const { copyStore } = await import('../../server/store/store-copy.ts');
      const report = await copyStore(from, to, (line) => io.err(line));
      io.out(
        `copied revision ${report.revision} (${report.entries} history entries, ${report.hosts} hosts, ${report.devices} devices); ` +
          `the copy verifies with head ${report.headHash}`,
      );
    });
}
