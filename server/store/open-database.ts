// Opens better-sqlite3 databases whose native objects live as long as the thread that made
// them. Every Database and Statement the project creates goes through openDatabase().
//
// Why: better-sqlite3 12 wraps its C++ objects in node::ObjectWrap. Since Node 24.19,
// ObjectWrap's destructor removes a per-object environment cleanup hook, and Node aborts the
// process (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook, from
// `Database::~Database` or `Statement::~Statement`) when that destructor runs inside V8's
// automatic garbage collection, where no Node context is entered. Closing a database does not
// help: a closed Database, or a Statement used once, still aborts the process whenever the
// collector frees its JS object. (Node 20 and 22 are not affected; better-sqlite3 13 drops
// ObjectWrap but needs Node >= 22.)
//
// So these objects must never become garbage. openDatabase() keeps each Database it opens,
// and each Statement prepared on it, reachable until the thread ends; Node then frees them
// through their cleanup hooks at environment teardown (worker.terminate() or process exit),
// where a context is entered and the destructor is safe. Databases are still closed
// deterministically (db.close()); what is kept after that is a few hundred bytes of wrapper
// per object. The cost stays bounded because the store prepares each statement once.
//
// The better-sqlite3 calls that create native objects out of our reach are refused here:
// pragma() (use exec('PRAGMA ...'), or prepare() to read a value) and backup() (a consistent
// copy is exec("VACUUM INTO 'file'")). Statement iterate() creates one too: refused on every
// statement prepared here (page with all() and LIMIT).

import Database from 'better-sqlite3';

/** The native-backed objects made on this thread; never shrinks (see above). */
const keptUntilThreadExit: object[] = [];

class ThreadLifetimeDatabase extends Database {
  constructor(filename: string, options?: Database.Options) {
    super(filename, options);
    keptUntilThreadExit.push(this);
  }

  override prepare<BindParameters extends unknown[] | {} = unknown[], Result = unknown>(
    source: string,
  ): Database.Statement<BindParameters, Result> {
    const statement = super.prepare<BindParameters, Result>(source);
    keptUntilThreadExit.push(statement);
    // iterate() makes a native iterator that the collector frees (see above): refused, on
    // every Node, so that a use of it fails the tests on Node 20 too instead of aborting 24.
    Object.defineProperty(statement, 'iterate', {
      value: () => {
        throw new Error('iterate() makes a native iterator that cannot be kept alive (server/store/open-database.ts): page with all() and LIMIT');
      },
    });
    return statement;
  }

  override pragma(): never {
    throw new Error("pragma() makes a statement that cannot be kept alive: use exec('PRAGMA ...') or prepare('PRAGMA ...')");
  }

  override backup(): never {
    throw new Error(
      "backup() makes a native object that cannot be kept alive (see server/store/open-database.ts): copy with exec(\"VACUUM INTO 'file'\")",
    );
  }
}

/** Opens (or creates) a SQLite database; see the header for why every object is kept. */
export function openDatabase(filename: string, options?: Database.Options): Database.Database {
  return new ThreadLifetimeDatabase(filename, options);
}
