// One scheduler process of the claim race (test/placement-race.test.ts): it connects with the
// real client and, for each line `host device claimId` read from stdin, tries to claim one
// unit of that device, then prints one JSON line with the outcome. The parent sends each
// round to every scheduler at once, so their creates race on the server.

import { createInterface } from 'node:readline';
import { DevcompatClient, DevcompatError } from '../../client/client.ts';

const address = process.argv[2];
const name = process.argv[3];
const client = new DevcompatClient({ address, actor: name });

for await (const line of createInterface({ input: process.stdin })) {
  const [host, device, claimId] = line.trim().split(' ');
  if (!host) continue;
  try {
    const { claim } = await client.claims.create(host, claimId, [{ device }], { ttlMs: 60_000 });
    process.stdout.write(`${JSON.stringify({ claimId, won: true, name: claim.name })}\n`);
  } catch (error) {
    const failure = DevcompatError.from(error);
    process.stdout.write(`${JSON.stringify({ claimId, won: false, code: failure.codeName, reason: failure.reason ?? '' })}\n`);
  }
}
client.close();
