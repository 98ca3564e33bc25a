// The storage worker's entry point. It is plain JavaScript because a worker thread does not
// inherit the TypeScript loader on every Node version: it registers tsx here, then loads the
// worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-worker.ts');
