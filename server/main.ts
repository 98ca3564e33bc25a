// The server process, run directly: `node dist/server/main.js` (the compiled build; `npm start`
// runs the same serve command through the CLI, `dist/client/main.js serve`), or `node --import
// tsx server/main.ts` from the sources, as tests and benches run it. It is `devcompat serve`
// alone (server/serve.ts, its flags).
//
// The storage worker's thread is started first, before anything else loads: a worker thread
// takes 0.1–0.3 s to boot Node and load SQLite, the longest step of a restart's storage path,
// and it now does so while this thread loads the flags' modules and the server's. It opens
// nothing until it is told what to open: by serve.ts once the flags are checked, or, with TLS,
// by the store once the certificates are loaded; serve.ts stops it for a PostgreSQL store.
// The heap setting is applied before it starts, so that no V8 flag changes while a second
// isolate runs.

import { applyHeapSettings } from './heap-settings.ts';
import { startStorageWorkerEarly } from './store/worker-store.ts';

applyHeapSettings();
startStorageWorkerEarly();
const { serveCommand } = await import('./serve.ts');
try {
  await serveCommand().name('devcompat-server').parseAsync(process.argv);
} catch (error) {
  // A flag, variable or settings file it cannot take: one line, exit 2, as `devcompat serve`.
  console.error(`devcompat-server: ${(error as Error).message}`);
  process.exit(2);
}
