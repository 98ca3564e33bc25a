// The mark of an unfinished `devcompat store copy` (store-copy.ts): a revisions row numbered 0,
// which no registry has (revisions start at 1). The copy writes it into the empty target before
// anything else, and deletes it only once the copy has checked itself; history, hosts and the
// rest are committed in between. A target still holding it (the copy was interrupted, crashed
// or failed its check) is therefore never taken for a registry: both SQL stores refuse to open
// it for a server, naming the copy and how to redo it, and a new copy into it is refused the
// same way. A row, not a table: no migration, and it commits or not with the transaction that
// writes it, so no crash leaves a half-written copy without it.

import { redact, type StoreChoice } from './store-choice.ts';

/** The revision number of the mark. */
export const COPY_MARK_REVISION = 0;

/** A revisions row: a revision's time, actor and reason, whether or not it has history entries. */
export interface RevisionRow {
  readonly revision: number;
  readonly time: number;
  readonly actor: string;
  readonly reason: string;
}

/** The mark a copy from `from` (as given, redacted) writes first. Time 0: it moves no revision time. */
export function copyMark(from: string, started = new Date()): RevisionRow {
  return { revision: COPY_MARK_REVISION, time: 0, actor: 'devcompat', reason: `store copy from ${redact(from)}, started ${started.toISOString()}` };
}

/** How to redo a copy into `target`: what to clear first, and the command. */
export function redoCopy(target: StoreChoice): string {
  const clear =
    target.kind === 'sqlite'
      ? `delete ${['', '-wal', '-shm'].map((suffix) => target.path + suffix).join(', ')} and ${target.path}.head`
      : 'drop the database and create it again, empty';
  const spec = target.kind === 'sqlite' ? `sqlite:${target.path}` : redact(target.url);
  return `To redo the copy, ${clear}, then run devcompat store copy <from> ${spec} again`;
}

/** The refusal of a store that holds the mark. */
export function unfinishedCopyError(target: StoreChoice, mark: RevisionRow): Error {
  const name = target.kind === 'sqlite' ? `the database ${target.path}` : `the PostgreSQL database ${redact(target.url)}`;
  return new Error(
    `${name} holds an unfinished \`devcompat store copy\` (${mark.reason}): the copy was interrupted or failed ` +
      `before it checked itself, so it is not a registry, and serving it would serve an incomplete one. Refusing to use it. ${redoCopy(target)}`,
  );
}
