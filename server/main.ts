// `npm start` (`node dist/server/main.js`; `node --import tsx server/main.ts` from the sources):
// the registry's server process, which is `devcompat serve` alone (server/serve.ts, its flags).
//
// The storage worker's thread is started first, before anything else loads: a worker thread
// takes 0.2–0.3 s to boot Node and load SQLite, the longest step of a restart's storage path,
// and it now does so while this thread loads the flags' modules and the server's. It opens
// nothing until serve.ts, having checked the flags, tells it what to open (or stops it: a
// PostgreSQL store needs none).

import { startStorageWorkerEarly } from './store/worker-store.ts';

startStorageWorkerEarly();
const { serveCommand } = await import('./serve.ts');
await serveCommand().name('devcompat-server').parseAsync(process.argv);
