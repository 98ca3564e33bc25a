// `npm run test:postgres`: starts one throwaway PostgreSQL cluster (test/helpers/
// postgres-cluster.ts), runs ava with ava.postgres.config.js and DEVCOMPAT_TEST_POSTGRES set to
// the cluster's address (each test server gets its own database in it), then stops the
// cluster and removes it, whatever the outcome. Arguments are passed to ava (a file, --match).
// It never skips: without PostgreSQL it fails, saying what is missing.

import { spawn } from 'node:child_process';
import { PostgresCluster } from '../helpers/postgres-cluster.ts';

const cluster = await PostgresCluster.create();
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn('npx', ['ava', '--config', 'ava.postgres.config.js', ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, DEVCOMPAT_TEST_POSTGRES: cluster.url() },
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
} finally {
  cluster.destroy();
}
process.exit(code);
