#!/usr/bin/env node
// The devcompat CLI. The sources are TypeScript, loaded through tsx's ESM hook.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../client/cli.ts');
process.exitCode = await run(process.argv.slice(2));
