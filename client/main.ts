#!/usr/bin/env node
// The `devcompat` process: runs the CLI on the process's arguments and exits with its code.
// Compiled to dist/client/main.js, the package's `bin`; in a checkout, bin/devcompat.js loads
// this file through tsx so that tests and development run the sources without a build.
import { run } from './cli.ts';

process.exitCode = await run(process.argv.slice(2));
