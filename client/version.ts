// The package's version, for `devcompat --version`: read from the package.json above this
// file, which is one folder up from the sources (client/) and two from the compiled build
// (dist/client/). Read once, on demand, so that other commands do not pay for it.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    const file = fileURLToPath(new URL(up, import.meta.url));
    if (!existsSync(file)) continue;
    const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (name === 'devcompat' && version) return version;
  }
  return 'unknown';
}
