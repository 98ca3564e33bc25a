#!/usr/bin/env node
// The devcompat CLI run from the sources (a checkout, the tests): TypeScript loaded through
// tsx's ESM hook. The installed package runs the compiled dist/client/main.js instead (its
// `bin`), with no TypeScript loader at run time.
import { register } from 'tsx/esm/api';

register();
await import('../client/main.ts');
