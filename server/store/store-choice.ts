// Which store a server runs on, from `--store` (env DEVCOMPAT_STORE) and the older `--db`
// (DEVCOMPAT_DB): `sqlite:PATH` (the default, ./data/devcompat.db) or a PostgreSQL connection
// string (`postgres://` or `postgresql://`). `--db PATH` stays the SQLite spelling; giving
// both is an error, so that nobody believes they run on one store while running on the other.

import type { StoreFactory } from '../core/store.ts';

export type StoreChoice =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** Parses a `--store` value; throws an error naming the option for anything else. */
export function parseStoreSpec(spec: string): StoreChoice {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('--store sqlite: needs a path, as in sqlite:./data/devcompat.db');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new Error(`--store ${redact(spec)} is not a valid PostgreSQL connection URL`);
    }
    return { kind: 'postgres', url: spec };
  }
  throw new Error(`--store must be sqlite:PATH or postgres://user@host/db, not ${JSON.stringify(redact(spec))}`);
}

/** `--store` and `--db` together: at most one of them may be given. */
export function chooseStore(store: string | undefined, db: string | undefined, defaultPath: string): StoreChoice {
  if (store !== undefined && db !== undefined) {
    throw new Error('give either --store or --db (DEVCOMPAT_STORE or DEVCOMPAT_DB), not both: --db PATH is the same as --store sqlite:PATH');
  }
  if (store !== undefined) return parseStoreSpec(store);
  return { kind: 'sqlite', path: db ?? defaultPath };
}

/**
 * The factory for a PostgreSQL choice (SQLite is the server's default factory, at dbPath). The
 * PostgreSQL store and its client (pg, which loads Node's fetch) are imported only then: a
 * SQLite server does not pay for them at every start.
 */
export function storeFactoryOf(choice: StoreChoice, startupChainCheck: number | undefined): StoreFactory | undefined {
  if (choice.kind !== 'postgres') return undefined;
  return async () => (await import('./postgres-store.ts')).postgresStore({ url: choice.url, startupChainCheck })();
}

/** A connection string without its password, for messages and logs. */
export function redact(spec: string): string {
  return spec.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
