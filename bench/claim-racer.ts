// One racing scheduler of the placement bench (bench/placement-load.ts): its own process,
// client and connection. For each line `host device claimId` on stdin it tries to claim one
// unit of the device and prints one JSON line: the outcome and the call's latency. The parent
// sends each round to every racer at once, so that their creates race on the server.

import { createInterface } from 'node:readline';
import { DevcompatClient, DevcompatError } from '../client/client.ts';
import { nowMs } from './stats.ts';

const client = new DevcompatClient({ address: process.argv[2], actor: process.argv[3] });

for await (const line of createInterface({ input: process.stdin })) {
  const [host, device, claimId] = line.trim().split(' ');
  if (!host) continue;
  const started = nowMs();
  try {
    await client.claims.create(host, claimId, [{ device }], { ttlMs: 600_000 });
    process.stdout.write(`${JSON.stringify({ claimId, won: true, ms: nowMs() - started })}\n`);
  } catch (error) {
    const failure = DevcompatError.from(error);
    process.stdout.write(`${JSON.stringify({ claimId, won: false, ms: nowMs() - started, code: failure.codeName, reason: failure.reason ?? '' })}\n`);
  }
}
client.close();
